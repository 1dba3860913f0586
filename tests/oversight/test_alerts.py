"""The JobReaper schedule through the API with a real worker: a job stuck past its expected
duration is raised as an alert, listed by GET /api/v1/alerts and resolved once it ends; a job
labelled alert=compensation_failed is raised too."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from api.logic.oversight.schedule import schedule_id
from contracts.oversight.names import Workflows
from contracts.oversight.reaper import ReaperInput
from contracts.provisioning.names import CloudRunSteps
from contracts.task_queues import queue_for_workflow
from temporal import search_attributes as sa
from tests.helpers.platform import (
    own_platform,
    unique_name,
    wait_for_job,
    wait_for_pending_activity,
)
from tests.helpers.provisioning import deploy
from tests.oversight.audit_helpers import row_for

OVERRIDES = {
    # A sweep every 1.2 s, and a deploy is "stuck" after one second.
    "job_reaper_interval_minutes": 0.02,
    "job_expected_seconds": {"DeployService": 1.0},
}


async def alert_for(
    api: httpx.AsyncClient, job_id: str, *, status: str, kind: str, seconds: float = 30
) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        response = await api.get("/api/v1/alerts", params={"job_id": job_id, "kind": kind})
        assert response.status_code == 200, response.text
        for alert in response.json()["items"]:
            if alert["status"] == status:
                return alert
        if time.monotonic() > deadline:
            raise AssertionError(f"no {status} {kind} alert for {job_id}: {response.json()}")
        await asyncio.sleep(0.2)


async def test_a_stuck_job_is_raised_by_the_schedule_and_resolved_when_it_ends(
    client: Client, settings, localcloud, data_dir
):
    localcloud.set_lro_delay(8.0)
    try:
        async with own_platform(
            data_dir, settings.temporal_address, localcloud.url, OVERRIDES
        ) as own:
            try:
                job_id = (await deploy(own.api, unique_name("stuck")))["job_id"]
                await wait_for_pending_activity(client, job_id, CloudRunSteps.APPLY_SERVICE)
                alert = await alert_for(own.api, job_id, status="open", kind="job_overdue")
                assert alert["workflow_type"] == "DeployService"
                assert "past its expected 1 s" in alert["message"]
                assert alert["resolved_at"] is None
                assert alert["temporal_ui_url"].endswith(f"/workflows/{job_id}")

                # Raised once, however many sweeps see it.
                await asyncio.sleep(2.5)
                listed = await own.api.get("/api/v1/alerts", params={"job_id": job_id})
                assert len(listed.json()["items"]) == 1

                localcloud.set_lro_delay(0.2)
                assert (await wait_for_job(own.api, job_id, seconds=60))["status"] == "completed"
                resolved = await alert_for(own.api, job_id, status="resolved", kind="job_overdue")
                assert resolved["id"] == alert["id"] and resolved["resolved_at"]

                # A compensation that failed: the label the job machinery sets on such a job.
                labelled = f"labelled-{uuid.uuid4().hex[:8]}"
                await client.execute_workflow(
                    Workflows.JOB_REAPER,
                    ReaperInput(),
                    id=labelled,
                    task_queue=queue_for_workflow(own.settings.task_queue, Workflows.JOB_REAPER),
                    search_attributes=TypedSearchAttributes(
                        [SearchAttributePair(sa.LABELS, ["alert=compensation_failed"])]
                    ),
                )
                failed = await alert_for(
                    own.api, labelled, status="open", kind="compensation_failed"
                )
                assert "compensation step failed" in failed["message"]

                # Someone cleaned up what it left: resolved by hand, once, and audited.
                request_id = f"req-{uuid.uuid4().hex[:8]}"
                resolve = await own.api.post(
                    f"/api/v1/alerts/{failed['id']}/resolve",
                    headers={
                        "X-Audit-Reason": "removed the orphan by hand",
                        "X-Request-ID": request_id,
                    },
                )
                assert resolve.status_code == 200, resolve.text
                assert resolve.json()["status"] == "resolved" and resolve.json()["resolved_at"]
                again = await own.api.post(f"/api/v1/alerts/{failed['id']}/resolve")
                assert again.status_code == 409
                details = again.json()["error"]["details"]
                assert details["resolved_at"] == resolve.json()["resolved_at"]
                assert details["resolved_at"].endswith("Z"), details
                unknown = await own.api.post(f"/api/v1/alerts/{uuid.uuid4()}/resolve")
                assert unknown.status_code == 404
                row = await row_for(own.api, request_id)
                assert row["job_id"] == labelled and row["resource"] == f"alerts/{failed['id']}"
                assert row["comment"] == "removed the orphan by hand"

                open_only = await own.api.get(
                    "/api/v1/alerts", params={"status": "open", "limit": 200}
                )
                assert job_id not in {a["job_id"] for a in open_only.json()["items"]}
            finally:
                await client.get_schedule_handle(schedule_id(own.settings)).delete()
    finally:
        localcloud.set_lro_delay(0.2)


async def test_alerts_page_newest_first_and_refuse_bad_input(api):
    first = await api.get("/api/v1/alerts", params={"limit": 1})
    assert first.status_code == 200
    assert set(first.json()) == {"items", "next_cursor"}
    for params in ({"kind": "nope"}, {"status": "maybe"}, {"cursor": "%%%"}, {"limit": 0}):
        response = await api.get("/api/v1/alerts", params=params)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["error"]["code"] == "validation_error"
    anonymous = await api.get("/api/v1/alerts", headers={"X-API-Key": "csk_nope"})
    assert anonymous.status_code == 401
