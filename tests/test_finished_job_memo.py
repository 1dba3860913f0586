"""A finished job is read from its final memo, with no query (api/job_engine.py `finished_state`):
for every way a job ends, the answer is the one the query gives, field for field, and a finished
job reads in full (all its log lines, its result, its compensation) with no worker up."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.jobs import JobActivities
from api.auth import Principal
from api.job_engine import JobEngine, finished_state
from api.schemas.jobs import Job, JobLogs
from contracts.jobs import JOB_MEMO_KEY, JOB_STATE_QUERY, JobState, JobSummaryMemo
from contracts.provisioning.names import CloudRunSteps
from contracts.resource_lock import lock_id
from core.settings import Settings
from providers.google.cloud_run import CloudRunServices
from tests.helpers.hold_job import HoldUntilFinished
from tests.helpers.job_controls import held, refuse_access_policy, refuse_deletion, start_deploy
from tests.helpers.lock_worker import lock_worker
from tests.helpers.platform import (
    own_platform,
    unique_name,
    wait_for_job,
    wait_for_pending_activity,
)

ADMIN = Principal(key_id=uuid.uuid4(), name="admin", scopes=frozenset({"admin"}))
ALL_LINES = 10_000


async def _memo_of(client: Client, job_id: str) -> JobSummaryMemo:
    description = await client.get_workflow_handle(job_id).describe()
    return JobSummaryMemo.model_validate(await description.memo_value(JOB_MEMO_KEY))


async def _read_both_ways(
    api: httpx.AsyncClient, client: Client, settings: Settings, job_id: str
) -> dict:
    """The job and its logs read from its final memo and by the query: the same answers. Returns
    the job as the API answers it."""
    engine = JobEngine(client, settings)
    description = await client.get_workflow_handle(job_id).describe()
    memo = await _memo_of(client, job_id)
    assert memo.final and memo.log_count == len(memo.logs), memo
    from_memo = finished_state(description, memo)
    queried = await client.get_workflow_handle(job_id).query(JOB_STATE_QUERY, result_type=JobState)
    assert from_memo == queried

    job, state = await engine.get(job_id, ADMIN)
    job_queried, state_queried = await engine.get(job_id, ADMIN, ask_workflow=True)
    # Both filled in alike from the history (the root cause's attempts and failure event).
    assert state == state_queried
    assert job.model_dump() == job_queried.model_dump()
    assert job.live is True
    logs = await engine.logs(job_id, ALL_LINES)
    assert logs == await engine.logs(job_id, ALL_LINES, ask_workflow=True)
    assert logs.live is True and logs.total == len(queried.logs)

    # What the API answers over HTTP is the memo's reading, as JSON.
    answered = (await api.get(f"/api/v1/jobs/{job_id}")).json()
    assert answered == Job.model_validate(answered).model_dump(mode="json")
    assert Job.model_validate(answered).model_dump() == job.model_dump()
    logs_answered = await api.get(f"/api/v1/jobs/{job_id}/logs", params={"lines": ALL_LINES})
    assert JobLogs.model_validate(logs_answered.json()) == logs
    return answered


async def test_a_completed_job_reads_the_same_from_its_memo(api, client, settings):
    job_id = await start_deploy(api, unique_name("memook"))
    assert (await wait_for_job(api, job_id))["status"] == "completed"
    job = await _read_both_ways(api, client, settings, job_id)
    assert job["result"] and job["progress"] == 100 and job["compensation"] == []


async def test_a_job_failed_after_its_compensation_reads_the_same_from_its_memo(
    api, client, settings, clean_faults
):
    name = unique_name("memofail")
    refuse_access_policy(clean_faults, name)
    job_id = await start_deploy(api, name)
    assert (await wait_for_job(api, job_id))["status"] == "failed"
    job = await _read_both_ways(api, client, settings, job_id)
    assert job["compensation"] == [
        {"step": "delete the new service", "status": "ok", "error": None}
    ]
    assert job["root_cause"]["step"] == "cloud_run.set_invokers"
    assert job["root_cause"]["attempts"] == 1


async def test_a_job_whose_compensation_failed_reads_the_same_from_its_memo(
    api, client, settings, clean_faults
):
    """The alert's label and its log line come after the compensation, before the final phase."""
    name = unique_name("memoalert")
    refuse_access_policy(clean_faults, name)
    refuse_deletion(clean_faults, name)
    job_id = await start_deploy(api, name)
    assert (await wait_for_job(api, job_id))["status"] == "failed"
    try:
        job = await _read_both_ways(api, client, settings, job_id)
    finally:
        await asyncio.to_thread(CloudRunServices(settings).force_delete, name)
    assert job["alert"] == "compensation_failed"
    assert job["compensation"][0]["status"] == "failed"


@pytest.fixture
def slow_operations(localcloud):
    localcloud.set_lro_delay(3.0)
    yield
    localcloud.set_lro_delay(0.2)


async def test_a_cancelled_job_reads_the_same_from_its_memo(api, client, settings, slow_operations):
    job_id = await start_deploy(api, unique_name("memocan"))
    await wait_for_pending_activity(client, job_id, CloudRunSteps.APPLY_SERVICE)
    assert (await api.post(f"/api/v1/jobs/{job_id}/cancel")).status_code == 202
    assert (await wait_for_job(api, job_id))["status"] == "cancelled"
    job = await _read_both_ways(api, client, settings, job_id)
    assert job["cancel_requested_at"] and job["compensation"]


async def test_a_job_rolled_back_from_a_hold_reads_the_same_from_its_memo(
    api, client, settings, clean_faults
):
    name = unique_name("memohold")
    refuse_access_policy(clean_faults, name)
    job_id = await start_deploy(api, name, hold=True)
    assert (await held(api, job_id))["status"] == "needs_attention"
    response = await api.post(f"/api/v1/jobs/{job_id}/rollback", json={"comment": "give up"})
    assert response.status_code == 202, response.text
    assert (await wait_for_job(api, job_id))["status"] == "failed"
    job = await _read_both_ways(api, client, settings, job_id)
    assert job["root_cause"]["step"] == "cloud_run.set_invokers"
    assert job["compensation"][0]["status"] == "ok"
    logs = (await api.get(f"/api/v1/jobs/{job_id}/logs")).json()["logs"]
    assert any("rollback requested: give up" in line for line in logs)


async def test_lines_logged_after_the_final_phase_are_in_the_final_memo(client, settings):
    """A job whose lock was terminated by hand cannot give its turn back, and one whose outcome
    event is not published (no worker of its queue publishes) says so: both after it completed.
    Its final memo is saved again with each such line: it still is the state the query answers."""
    queue = f"memo-{uuid.uuid4().hex[:8]}"
    subject = f"s-{uuid.uuid4().hex[:8]}"
    jobs = JobActivities(client, Settings(job_lock_check_seconds=1.0, task_queue=queue))
    worker = Worker(
        client,
        task_queue=queue,
        workflows=[HoldUntilFinished],
        activities=jobs.all(),
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    async with worker, lock_worker(client, queue, jobs):
        handle = await client.start_workflow(
            HoldUntilFinished.run, subject, id=f"hold-{uuid.uuid4().hex[:8]}", task_queue=queue
        )
        for _ in range(150):
            state = await handle.query(JOB_STATE_QUERY, result_type=JobState)
            if state.current_phase == "holding":
                break
            await asyncio.sleep(0.1)
        assert state.current_phase == "holding", state
        await client.get_workflow_handle(lock_id(f"test:{subject}")).terminate("by hand")
        await handle.signal(HoldUntilFinished.finish)
        await handle.result()
        queried = await handle.query(JOB_STATE_QUERY, result_type=JobState)
        job_id = handle.id
        completed = next(
            index for index, line in enumerate(queried.logs) if line.endswith("] completed")
        )
        after = queried.logs[completed + 1 :]
        assert any("could not release the lock" in line for line in after), queried.logs
        memo = await _memo_of(client, job_id)
        assert memo.final and memo.logs == queried.logs
        description = await handle.describe()
        # Started here, not by the API: no search attribute names its operation or subject.
        assert finished_state(description, memo) == queried.model_copy(
            update={"operation": "", "subject": None, "labels": {}}
        )
        engine = JobEngine(client, settings)
        job, _state = await engine.get(job_id, ADMIN)
        job_queried, _state = await engine.get(job_id, ADMIN, ask_workflow=True)
        assert job.model_dump() == job_queried.model_dump()
        logs = await engine.logs(job_id, ALL_LINES)
        assert logs == await engine.logs(job_id, ALL_LINES, ask_workflow=True)
        assert logs.logs[-len(after) :] == after


async def test_a_finished_job_reads_in_full_with_no_worker_up(
    data_dir, temporal_address, localcloud, client
):
    """Before, with no worker the read waited out the query's timeout and answered the memo as it
    was at the last phase change (`live: false`)."""
    name = unique_name("memonow")
    refuse_access_policy(localcloud, name)
    try:
        async with own_platform(data_dir, temporal_address, localcloud.url) as platform:
            done = await start_deploy(platform.api, unique_name("memonow"))
            failed = await start_deploy(platform.api, name)
            queried = {}
            for job_id in (done, failed):
                await wait_for_job(platform.api, job_id)
                # What the workflow itself says, while its worker is up.
                queried[job_id] = await client.get_workflow_handle(job_id).query(
                    JOB_STATE_QUERY, result_type=JobState
                )
            platform.kill_worker()
            read = {}
            for job_id in (done, failed):
                read[job_id] = (
                    (await platform.api.get(f"/api/v1/jobs/{job_id}")).json(),
                    (await platform.api.get(f"/api/v1/jobs/{job_id}/logs")).json(),
                )
    finally:
        localcloud.clear_faults()
    for job_id, (job, logs) in read.items():
        state = queried[job_id]
        assert job["live"] is True and logs["live"] is True
        assert logs["logs"] == state.logs and logs["total"] == len(state.logs)
        assert (job["current_phase"], job["progress"], job["error"]) == (
            state.current_phase,
            state.progress,
            state.error,
        )
        assert job["result"] == state.result
        assert job["compensation"] == [entry.model_dump() for entry in state.compensation]
    assert read[done][0]["status"] == "completed" and read[done][0]["result"]
    assert read[failed][0]["status"] == "failed"
    assert read[failed][0]["compensation"][0]["status"] == "ok"
    assert read[failed][0]["root_cause"]["step"] == "cloud_run.set_invokers"
