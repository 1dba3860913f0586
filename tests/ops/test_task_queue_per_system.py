"""A task queue per system: worker processes serving different systems against one dev server run
each system's jobs on its own queue, a SIGKILLed one stops only its own system, `--systems` is
checked before anything connects, and a worker serving every system still finishes the jobs of the
single queue of before the split."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client, WorkflowHandle

from contracts import task_queues
from contracts.provisioning.names import Workflows as ProvisioningWorkflows
from contracts.provisioning.services import DeployServiceInput, ServiceSpec
from contracts.task_queues import parse_systems, queue
from core.settings import Settings
from providers.tls import client_context
from store.db import Database
from tests.helpers.platform import (
    ADMIN_KEY,
    ROOT,
    ApiServer,
    make_settings,
    start_worker_process,
    unique_name,
    wait_for_job,
)
from tests.helpers.provisioning import IMAGE, deploy
from tests.helpers.runners import new_repo, set_job_seconds
from worker import build_worker, parse_args


def test_systems_default_to_all_and_keep_their_order():
    assert parse_systems(None) == ["provisioning", "runners", "oversight", "hosting", "assistant"]
    assert parse_systems("") == ["provisioning", "runners", "oversight", "hosting", "assistant"]
    assert parse_systems(" runners , provisioning,runners") == ["provisioning", "runners"]
    assert parse_args(["--systems", "oversight"]) == ["oversight"]
    assert parse_args([]) == list(task_queues.SYSTEMS)


@pytest.mark.parametrize("value", ["billing", "runners,crm", ",", "Runners"])
def test_an_unknown_system_is_refused_with_the_known_ones(value):
    with pytest.raises(
        ValueError, match="choose from provisioning, runners, oversight, hosting, assistant"
    ):
        parse_systems(value)


def test_the_worker_exits_with_a_usage_error_on_an_unknown_system():
    done = subprocess.run(
        [sys.executable, "worker.py", "--systems", "runners,billing"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert (
        "unknown system(s) 'billing': choose from provisioning, runners, oversight, hosting, assistant"
        in (done.stderr)
    )


async def test_a_worker_serves_its_systems_the_core_and_the_legacy_queue_only_with_all(
    client: Client, settings: Settings, db: Database
):
    def fresh(**update) -> Settings:
        # A queue prefix of its own: one process may register one Worker per queue only.
        return settings.model_copy(update={"task_queue": f"t-{uuid.uuid4().hex[:8]}", **update})

    runners_only = fresh()
    built = build_worker(client, runners_only, db, ["runners"])
    prefix = runners_only.task_queue
    assert built.task_queues == [queue(prefix, "core"), queue(prefix, "runners")]
    everything = fresh(worker_serve_legacy_queue=True)
    built = build_worker(client, everything, db)
    assert built.task_queues == task_queues.platform_queues(everything.task_queue)
    # Serving a subset never polls the legacy queue: its jobs may be of any system.
    subset = fresh(worker_serve_legacy_queue=True)
    built = build_worker(client, subset, db, ["provisioning", "oversight"])
    assert subset.task_queue not in built.workers


async def _identities(handle: WorkflowHandle) -> set[str]:
    """Which workers ran the job's workflow and activity tasks (the SDK's `<pid>@<host>`)."""
    seen = set()
    async for event in handle.fetch_history_events():
        for attributes in (
            event.workflow_task_started_event_attributes,
            event.activity_task_started_event_attributes,
        ):
            if attributes.identity:
                seen.add(attributes.identity.split("@")[0])
    return seen


@pytest.mark.long
async def test_each_system_runs_on_its_workers_and_survives_the_others_being_killed(
    client: Client, settings: Settings, localcloud, data_dir: Path
):
    own = make_settings(data_dir, settings.temporal_address, localcloud.url)
    provisioning = start_worker_process(own, args=("--systems", "provisioning"))
    runners = start_worker_process(own, args=("--systems", "runners"))
    repo = new_repo(localcloud.url)
    set_job_seconds(localcloud.url, 1)
    try:
        with ApiServer(own) as server:
            async with httpx.AsyncClient(
                verify=client_context(),
                base_url=server.url,
                headers={"X-API-Key": ADMIN_KEY},
                timeout=30,
            ) as api:

                async def start_runner() -> str:
                    answer = await api.post(
                        "/api/v1/runners", json={"scope": "repo", "scope_name": repo}
                    )
                    assert answer.status_code == 202, answer.text
                    return answer.json()["runners"][0]["runner_id"]

                deployed = (await deploy(api, unique_name("queues")))["job_id"]
                runner = await start_runner()
                for job_id in (deployed, runner):
                    assert (await wait_for_job(api, job_id, seconds=90))["status"] == "completed"
                for job_id, system, worker in (
                    (deployed, "provisioning", provisioning),
                    (runner, "runners", runners),
                ):
                    handle = client.get_workflow_handle(job_id)
                    assert (await handle.describe()).task_queue == queue(own.task_queue, system)
                    assert await _identities(handle) == {str(worker.pid)}, job_id

                # The runners' worker dies: provisioning goes on (its lock on the core queue too,
                # served by the worker left), and a runner waits in its queue for a worker.
                runners.kill()
                runners.wait()
                waiting = await start_runner()
                again = (await deploy(api, unique_name("queues")))["job_id"]
                assert (await wait_for_job(api, again, seconds=90))["status"] == "completed"
                assert (await api.get(f"/api/v1/jobs/{waiting}")).json()["status"] == "queued"

                runners = start_worker_process(own, args=("--systems", "runners"))
                assert (await wait_for_job(api, waiting, seconds=90))["status"] == "completed"
                assert await _identities(client.get_workflow_handle(waiting)) == {str(runners.pid)}
    finally:
        set_job_seconds(localcloud.url, 2)
        for proc in (provisioning, runners):
            proc.terminate()
            proc.wait(timeout=20)


async def test_a_job_started_on_the_single_queue_of_before_still_completes(
    client: Client, settings: Settings, db: Database
):
    """The upgrade: a worker serving every system also serves the legacy queue (the prefix)."""
    upgraded = settings.model_copy(
        update={"task_queue": f"legacy-{uuid.uuid4().hex[:8]}", "worker_serve_legacy_queue": True}
    )
    spec = ServiceSpec(service_name=unique_name("legacy"), image=IMAGE)
    async with build_worker(client, upgraded, db):
        handle = await client.start_workflow(
            ProvisioningWorkflows.DEPLOY_SERVICE,
            DeployServiceInput(spec=spec, region="us-central1"),
            id=f"deploy-{uuid.uuid4().hex[:12]}",
            task_queue=upgraded.task_queue,
        )
        await asyncio.wait_for(handle.result(), timeout=90)
    assert (await handle.describe()).task_queue == upgraded.task_queue
