"""Jobs when something is down: the worker (reads fall back to the memo, a cancel still ends the job
cancelled and undone) and the outside API (retried for a time, errors without internal endpoints)."""

from __future__ import annotations

import asyncio

import httpx

from contracts.provisioning.names import CloudRunSteps
from providers.google.cloud_run import CloudRunServices
from providers.tls import client_context
from tests.helpers.platform import (
    ADMIN_KEY,
    ApiServer,
    free_port,
    own_platform,
    unique_name,
    wait_for_job,
    wait_for_pending_activity,
)
from tests.helpers.provisioning import deploy

# Fast retries for the tests; the window is what bounds them, not a count of attempts.
FAST_RETRY = {"step_retry_initial_seconds": 0.05, "step_retry_max_interval_seconds": 0.1}


async def test_with_the_worker_down_a_job_and_its_logs_are_read_from_the_memo(
    client, settings, localcloud, data_dir
):
    localcloud.set_lro_delay(6.0)
    try:
        async with own_platform(data_dir, settings.temporal_address, localcloud.url) as own:
            name = unique_name("downread")
            job_id = (await deploy(own.api, name))["job_id"]
            await wait_for_pending_activity(client, job_id, CloudRunSteps.APPLY_SERVICE)
            own.kill_worker()

            job = await own.api.get(f"/api/v1/jobs/{job_id}")
            assert job.status_code == 200, job.text
            assert job.json()["live"] is False
            assert job.json()["current_phase"] == "creating"
            logs = (await own.api.get(f"/api/v1/jobs/{job_id}/logs")).json()
            assert logs["live"] is False
            assert logs["lines"] == len(logs["logs"]) > 0 and logs["total"] >= logs["lines"]
            assert any(f"creating service {name}" in line for line in logs["logs"])

            localcloud.set_lro_delay(0.2)
            own.restart_worker()
            job = await wait_for_job(own.api, job_id, seconds=90)
            assert job["status"] == "completed" and job["live"] is True, job
    finally:
        localcloud.set_lro_delay(0.2)


async def test_a_job_cancelled_while_its_step_worker_is_dead_ends_cancelled_and_undone(
    client, settings, localcloud, data_dir
):
    localcloud.set_lro_delay(6.0)
    try:
        async with own_platform(data_dir, settings.temporal_address, localcloud.url) as own:
            name = unique_name("downcancel")
            job_id = (await deploy(own.api, name))["job_id"]
            await wait_for_pending_activity(client, job_id, CloudRunSteps.APPLY_SERVICE)
            own.kill_worker()
            cancel = await own.api.post(f"/api/v1/jobs/{job_id}/cancel")
            assert cancel.status_code == 202, cancel.text
            assert "undone" in cancel.json()["effect"]
            # (The race where the step then times out with the cancel pending, which the server
            # reports as a timeout, is pinned in test_deploy_workflow_logic.)
            own.restart_worker()
            localcloud.set_lro_delay(0.2)

            job = await wait_for_job(own.api, job_id, seconds=90)
            assert job["status"] == "cancelled", job
            assert job["error"].startswith("cancelled by request"), job
            assert await asyncio.to_thread(CloudRunServices(settings).get, name) is None
    finally:
        localcloud.set_lro_delay(0.2)


async def test_an_outage_longer_than_ten_attempts_is_retried_until_the_job_completes(
    api, settings, localcloud
):
    # The API decides a job's retry when it starts it; the suite's worker runs the job.
    fast = settings.model_copy(update={**FAST_RETRY, "step_retry_minutes": 1.0})
    # Twelve failures: more attempts than any count-based retry policy (ten) would make.
    name = unique_name("outage")
    outage = localcloud.inject_fault(
        fail_next=12, code=503, method="POST", path_contains=f"serviceId={name}"
    )
    try:
        with ApiServer(fast) as server:
            async with httpx.AsyncClient(
                verify=client_context(),
                base_url=server.url,
                headers={"X-API-Key": ADMIN_KEY},
                timeout=30,
            ) as http:
                job = await wait_for_job(http, (await deploy(http, name))["job_id"], seconds=90)
    finally:
        localcloud.clear_faults()
    assert job["status"] == "completed", job
    assert localcloud.fired(outage) == 12


async def test_an_unreachable_cloud_fails_the_job_without_naming_its_endpoint(settings, data_dir):
    closed = f"http://127.0.0.1:{free_port()}"
    overrides = {**FAST_RETRY, "step_retry_minutes": 0.1}
    async with own_platform(data_dir, settings.temporal_address, closed, overrides) as own:
        name = unique_name("refused")
        job_id = (await deploy(own.api, name))["job_id"]
        job = await wait_for_job(own.api, job_id, seconds=60)
        logs = (await own.api.get(f"/api/v1/jobs/{job_id}/logs")).json()["logs"]
    assert job["status"] == "failed", job
    assert "connection refused" in job["error"], job
    for text in (job["error"], *logs):
        assert "127.0.0.1" not in text and "http://" not in text, text
