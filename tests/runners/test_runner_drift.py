"""A runner's container changed behind the platform's back (paused straight through the local
cloud's Docker Engine API, which the runner's own job does not notice) shows `Drifted` with the
field on `GET /api/v1/runners/{id}` after the drift observer's next run (its schedule triggered
through Temporal's API), with one `resource_drifted` alert; once the platform destroys the runner,
its record is gone and the alert resolved. A container removed outside ends the runner's job, which
forgets the runner too; one whose job was ended outside the platform reads `Drifted` until the
runners' cleanup forgets it."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from temporalio.client import Client

from tests.helpers import drift
from tests.helpers.drift import condition, observe
from tests.helpers.platform import wait_for_job
from tests.helpers.runners import (
    docker_client,
    job_containers,
    new_repo,
    set_job_seconds,
    wait_for_runner,
)


@pytest.fixture
def long_jobs(localcloud):
    set_job_seconds(localcloud.url, 600)
    yield
    set_job_seconds(localcloud.url, 2)


async def observed(api: httpx.AsyncClient, runner_id: str, after: str | None, seconds: float = 30):
    return await drift.observed(api, f"/api/v1/runners/{runner_id}", after, seconds)


async def drift_alerts(api: httpx.AsyncClient, runner_id: str) -> list[dict]:
    alerts = await api.get("/api/v1/alerts", params={"kind": "resource_drifted"})
    assert alerts.status_code == 200, alerts.text
    return [a for a in alerts.json()["items"] if a["resource"] == f"runner/{runner_id}"]


async def start_runner(api: httpx.AsyncClient, cloud_url: str, name: str) -> str:
    answer = await api.post(
        "/api/v1/runners",
        json={"scope": "repo", "scope_name": new_repo(cloud_url), "runner_name": name},
    )
    assert answer.status_code == 202, answer.text
    runner_id = answer.json()["runners"][0]["runner_id"]
    await wait_for_runner(api, runner_id, "running")
    return runner_id


async def test_a_runner_container_paused_behind_the_platforms_back_is_reported(
    api, client: Client, settings, localcloud, long_jobs
):
    runner_id = await start_runner(api, localcloud.url, "drifting")
    await observe(client, settings)
    synced = await observed(api, runner_id, None)
    assert condition(synced, "Synced")["status"] == "True", synced
    assert condition(synced, "Ready")["status"] == "True", synced
    assert condition(synced, "Drifted")["status"] == "False", synced
    assert synced["drift"] == []

    (container,) = job_containers(localcloud.url, runner_id)
    await asyncio.to_thread(docker_client(localcloud.url).api.pause, container.id)

    await observe(client, settings)
    drifted = await observed(api, runner_id, synced["observed_at"])
    assert condition(drifted, "Drifted")["status"] == "True", drifted
    assert condition(drifted, "Ready")["status"] == "False", drifted
    assert drifted["drift"] == [{"field": "state", "applied": "running", "live": "paused"}]
    assert drifted["status"] == "paused" and drifted["container_state"] == "paused"
    mine = await drift_alerts(api, runner_id)
    assert len(mine) == 1 and mine[0]["status"] == "open", mine

    # Seen again, still drifted the same way: no second alert.
    await observe(client, settings)
    await observed(api, runner_id, drifted["observed_at"])
    assert len(await drift_alerts(api, runner_id)) == 1

    destroyed = await api.delete(f"/api/v1/runners/{runner_id}")
    assert destroyed.status_code == 200, destroyed.text
    assert destroyed.json()["destroyed"] is True
    assert job_containers(localcloud.url, runner_id) == []

    # Destroyed by the platform: its record is gone and its drift alert resolved.
    gone = (await api.get(f"/api/v1/runners/{runner_id}")).json()
    assert gone["conditions"] == [] and gone["drift"] == [] and gone["observed_at"] is None, gone
    (alert,) = await drift_alerts(api, runner_id)
    assert alert["status"] == "resolved", alert


async def test_a_container_removed_outside_ends_the_runner_and_its_record(
    api, client: Client, settings, localcloud, long_jobs
):
    runner_id = await start_runner(api, localcloud.url, "removed-outside")
    await observe(client, settings)
    await observed(api, runner_id, None)

    (container,) = job_containers(localcloud.url, runner_id)
    engine = docker_client(localcloud.url)
    await asyncio.to_thread(engine.api.remove_container, container.id, force=True)

    # The runner's own job sees its container gone and ends; the platform forgets the runner.
    job = await wait_for_job(api, runner_id)
    assert job["status"] == "completed" and job["result"]["outcome"] == "gone", job
    gone = (await api.get(f"/api/v1/runners/{runner_id}")).json()
    assert gone["conditions"] == [] and gone["observed_at"] is None, gone


async def test_a_runner_whose_job_ended_outside_is_reported_then_cleaned_up(
    api, client: Client, settings, localcloud, long_jobs
):
    """A runner job terminated through Temporal (not through the platform) leaves its record: its
    container removed outside reads `Drifted` (`container` gone), and the runners' cleanup forgets
    it and resolves the alert."""
    runner_id = await start_runner(api, localcloud.url, "terminated-outside")
    await observe(client, settings)
    synced = await observed(api, runner_id, None)
    await client.get_workflow_handle(runner_id).terminate("ended outside the platform")
    (container,) = job_containers(localcloud.url, runner_id)
    engine = docker_client(localcloud.url)
    await asyncio.to_thread(engine.api.remove_container, container.id, force=True)

    await observe(client, settings)
    drifted = await observed(api, runner_id, synced["observed_at"])
    assert condition(drifted, "Drifted")["status"] == "True", drifted
    assert condition(drifted, "Ready")["status"] == "False", drifted
    assert drifted["drift"] == [{"field": "container", "applied": "present", "live": None}]
    (alert,) = await drift_alerts(api, runner_id)
    assert alert["status"] == "open", alert

    cleaned = await api.post("/api/v1/runners/cleanup")
    assert cleaned.status_code == 200 and cleaned.json()["completed"], cleaned.text
    gone = (await api.get(f"/api/v1/runners/{runner_id}")).json()
    assert gone["conditions"] == [] and gone["observed_at"] is None, gone
    (alert,) = await drift_alerts(api, runner_id)
    assert alert["status"] == "resolved", alert
