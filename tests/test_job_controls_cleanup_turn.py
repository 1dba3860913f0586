"""The cleanup after a force-cancel runs in the terminated job's turn on its subject: a job queued
behind the terminated one starts only once the cleanup has ended, and the cleanup never removes
what that next job makes."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import httpx
import pytest
from temporalio.api.enums.v1 import EventType

from contracts.provisioning.names import CloudRunSteps
from providers.google.cloud_run import CloudRunServices
from providers.google.cloud_run_spec import applied_by
from providers.tls import client_context
from tests.helpers.job_controls import COOLOFF, start_deploy
from tests.helpers.platform import (
    ADMIN_KEY,
    unique_name,
    wait_for_job,
    wait_for_pending_activity,
)

TURN = "jobs.request_turn"


@pytest.fixture
def slow_operations(localcloud):
    localcloud.set_lro_delay(3.0)
    yield localcloud
    localcloud.set_lro_delay(0.2)
    localcloud.clear_faults()


async def wait_queued_behind(api: httpx.AsyncClient, job_id: str, ahead: list[str]) -> dict:
    deadline = time.monotonic() + 30
    while True:
        job = (await api.get(f"/api/v1/jobs/{job_id}")).json()
        if job["queued_behind"] == ahead:
            return job
        assert job["status"] == "queued", job
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.1)


async def activity_times(client, job_id: str) -> list[tuple[str, datetime, datetime | None]]:
    """Each activity the job ran, in order: its type, when it was scheduled and when it ended."""
    history = await client.get_workflow_handle(job_id).fetch_history()
    scheduled: dict[int, tuple[str, datetime]] = {}
    ended: dict[int, datetime] = {}
    for event in history.events:
        at = event.event_time.ToDatetime()
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            name = event.activity_task_scheduled_event_attributes.activity_type.name
            scheduled[event.event_id] = (name, at)
        elif event.event_type in (
            EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
            EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
        ):
            attributes = (
                event.activity_task_completed_event_attributes
                if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
                else event.activity_task_failed_event_attributes
            )
            ended[attributes.scheduled_event_id] = at
    return [(name, at, ended.get(event_id)) for event_id, (name, at) in scheduled.items()]


async def test_the_next_job_on_the_subject_waits_for_the_cleanup(
    api, client, settings, localcloud, quick_cooloff_api, slow_operations
):
    name = unique_name("cleanturn")
    # The first deploy's compensation (its deletion) hangs: the graceful cancel cannot finish.
    localcloud.inject_fault(
        fail_next=1, code=None, method="DELETE", path_contains=f"/services/{name}", latency_ms=15000
    )
    async with httpx.AsyncClient(
        verify=client_context(),
        base_url=quick_cooloff_api.url,
        headers={"X-API-Key": ADMIN_KEY},
        timeout=30,
    ) as admin:
        first = await start_deploy(admin, name)
        await wait_for_pending_activity(client, first, CloudRunSteps.APPLY_SERVICE)
        second = await start_deploy(admin, name)
        await wait_queued_behind(admin, second, [first])

        assert (await admin.post(f"/api/v1/jobs/{first}/cancel")).status_code == 202
        await wait_for_pending_activity(client, first, CloudRunSteps.DELETE_SERVICE)
        cancel_requested_at = time.monotonic()
        await asyncio.sleep(COOLOFF + 0.5)
        # The cleanup's listing is slow: a job let through at the terminate would run meanwhile
        # (the suite's lock notices a terminated holder within a second).
        localcloud.inject_fault(
            fail_next=1,
            code=None,
            method="GET",
            path_contains="/locations/-/services",
            latency_ms=10000,
        )
        forced = await admin.post(f"/api/v1/jobs/{first}/force-cancel")
        assert forced.status_code == 202, forced.text
        cleanup_id = forced.json()["cleanup_job_id"]
        assert time.monotonic() - cancel_requested_at < 15, "the hung deletion may have ended"

        waiting = await wait_queued_behind(admin, second, [cleanup_id])
        assert waiting["current_phase"] == f"waiting for {cleanup_id}"
        cleanup = await wait_for_job(admin, cleanup_id, seconds=90)
        after = await wait_for_job(admin, second, seconds=90)

    assert cleanup["status"] == "completed", cleanup
    assert cleanup["subject"] == {"kind": "service", "name": name}
    assert after["status"] == "completed", after
    # In the histories: the next job's first step after its turn was scheduled once the
    # cleanup's last step had ended.
    cleaned = [step for step in await activity_times(client, cleanup_id) if step[0] != TURN]
    next_steps = [step for step in await activity_times(client, second) if step[0] != TURN]
    assert cleaned and all(ended is not None for _, _, ended in cleaned), cleaned
    assert next_steps[0][1] >= max(ended for _, _, ended in cleaned), (cleaned, next_steps)
    # What the next job made is its own: the cleanup removed only the terminated job's service.
    service = await asyncio.to_thread(CloudRunServices(settings).get, name)
    assert applied_by(service, second), service
    await asyncio.to_thread(CloudRunServices(settings).force_delete, name)
