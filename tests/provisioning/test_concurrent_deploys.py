"""Jobs on one service take turns (issue 7, finding 1): concurrent deploys of one new name all
complete, the later ones as updates, each showing whom it waits for; a job cancelled while it waits
touches nothing; a holder terminated by hand does not block the queue."""

from __future__ import annotations

import asyncio
import time

import pytest
from temporalio.api.enums.v1 import EventType

from providers.google.cloud_run import CloudRunServices
from tests.helpers.platform import unique_name, wait_for_job
from tests.helpers.provisioning import deploy


@pytest.fixture
def slow_operations(localcloud):
    """Each Cloud Run operation takes seconds, so the first job still holds the service when the
    others ask for it."""
    localcloud.set_lro_delay(3.0)
    yield localcloud
    localcloud.set_lro_delay(0.2)
    localcloud.clear_faults()


async def watch_jobs(api, job_ids: list[str], seconds: float = 120) -> tuple[dict, dict]:
    """Polls the jobs until all have ended; returns their final state and, per job, every
    `queued_behind` it showed while it was queued."""
    seen: dict[str, list[list[str]]] = {job_id: [] for job_id in job_ids}
    final: dict[str, dict] = {}
    deadline = time.monotonic() + seconds
    while len(final) < len(job_ids):
        assert time.monotonic() < deadline, f"jobs still running: {set(job_ids) - set(final)}"
        for job_id in set(job_ids) - set(final):
            job = (await api.get(f"/api/v1/jobs/{job_id}")).json()
            if job["queued_behind"]:
                assert job["status"] == "queued", job
                assert job["current_phase"] == f"waiting for {job['queued_behind'][0]}", job
                if job["queued_behind"] not in seen[job_id]:
                    seen[job_id].append(job["queued_behind"])
            if job["status"] in ("completed", "failed", "cancelled"):
                final[job_id] = job
        await asyncio.sleep(0.1)
    return final, seen


async def logs_of(api, job_id: str) -> list[str]:
    return (await api.get(f"/api/v1/jobs/{job_id}/logs", params={"lines": 500})).json()["logs"]


async def activities_of(client, job_id: str) -> list[str]:
    history = await client.get_workflow_handle(job_id).fetch_history()
    return [
        event.activity_task_scheduled_event_attributes.activity_type.name
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]


@pytest.mark.parametrize("jobs", [2, 3])
async def test_concurrent_deploys_of_one_new_service_all_complete_in_turn(
    api, settings, slow_operations, jobs
):
    name = unique_name("race")
    started = await asyncio.gather(*(deploy(api, name) for _ in range(jobs)))
    job_ids = [job["job_id"] for job in started]

    final, seen = await watch_jobs(api, job_ids)

    assert [final[j]["status"] for j in job_ids] == ["completed"] * jobs, final
    assert sorted(final[j]["result"]["created"] for j in job_ids) == [False] * (jobs - 1) + [True]
    assert all(final[j]["result"]["revision"] for j in job_ids), final
    service = await asyncio.to_thread(CloudRunServices(settings).get, name)
    assert service is not None and service.latest_ready_revision
    for job_id in job_ids:
        assert not any("compensating" in line for line in await logs_of(api, job_id))

    # They ran one after the other, in the order the platform queued them; each waiter showed the
    # jobs ahead of it, the one running first.
    order = sorted(job_ids, key=lambda j: final[j]["started_at"])
    assert final[order[0]]["result"]["created"] is True
    for position, job_id in enumerate(order[1:], start=1):
        assert seen[job_id], f"{job_id} never showed whom it waited for"
        assert seen[job_id][0] == order[:position], seen


async def test_a_job_cancelled_while_queued_ends_cancelled_and_the_queue_moves_on(
    api, client, settings, slow_operations
):
    name = unique_name("qcancel")
    slow_operations.set_lro_delay(6.0)
    first = (await deploy(api, name))["job_id"]
    await wait_for_job(api, first, until={"running"})
    b = (await deploy(api, name, env_vars={"FROM": "b"}))["job_id"]
    c = (await deploy(api, name, env_vars={"FROM": "c"}))["job_id"]
    # Jobs queue in the order their requests reach the lock, which need not be the start order:
    # wait until one of them is queued behind both others, then cancel the one in the middle.
    deadline = time.monotonic() + 30
    while True:
        jobs = {j: (await api.get(f"/api/v1/jobs/{j}")).json() for j in (b, c)}
        last = next((j for j in (b, c) if len(jobs[j]["queued_behind"]) == 2), None)
        if last is not None:
            break
        assert time.monotonic() < deadline, jobs
        await asyncio.sleep(0.1)
    middle = b if last == c else c
    assert jobs[last]["queued_behind"] == [first, middle]

    assert (await api.post(f"/api/v1/jobs/{middle}/cancel")).status_code == 202
    cancelled = await wait_for_job(api, middle, seconds=15)
    assert cancelled["status"] == "cancelled", cancelled
    assert cancelled["queued_behind"] == []
    # It ended while the first still held the service, and never touched it.
    assert (await api.get(f"/api/v1/jobs/{first}")).json()["status"] == "running"
    assert "cancelled by request" in cancelled["error"]
    assert await activities_of(client, middle) == ["jobs.request_turn"]

    # The last now waits for the first alone, then runs.
    job = (await api.get(f"/api/v1/jobs/{last}")).json()
    deadline = time.monotonic() + 15
    while job["queued_behind"] != [first] and job["status"] == "queued":
        assert time.monotonic() < deadline, job
        job = (await api.get(f"/api/v1/jobs/{last}")).json()
        await asyncio.sleep(0.1)
    final, _ = await watch_jobs(api, [first, last])
    assert final[first]["status"] == final[last]["status"] == "completed", final
    service = await asyncio.to_thread(CloudRunServices(settings).get, name)
    env = {var.name: var.value for var in service.template.containers[0].env}
    assert env == {"FROM": "b" if last == b else "c"}


async def test_a_terminated_holder_does_not_block_the_next_job(
    api, client, settings, slow_operations
):
    name = unique_name("term")
    first = (await deploy(api, name))["job_id"]
    await wait_for_job(api, first, until={"running"})
    second = (await deploy(api, name))["job_id"]
    job = await wait_for_job(api, second, until={"queued"})
    deadline = time.monotonic() + 30
    while job["queued_behind"] != [first]:
        assert time.monotonic() < deadline, job
        job = (await api.get(f"/api/v1/jobs/{second}")).json()
        await asyncio.sleep(0.1)

    await client.get_workflow_handle(first).terminate("operator stopped it")
    terminated_at = time.monotonic()
    # The lock checks its holder every job_lock_check_seconds (1 s in the suite).
    await wait_for_job(api, second, until={"running", "completed", "failed"}, seconds=15)
    assert time.monotonic() - terminated_at < settings.job_lock_check_seconds + 10
    job = await wait_for_job(api, second, seconds=60)
    assert job["status"] == "completed", job
    assert await asyncio.to_thread(CloudRunServices(settings).get, name) is not None
