"""The jobs API itself: idempotency keys per caller, paging, answers when the live read fails, and
what the 202 and the logs answer say."""

from __future__ import annotations

import asyncio
import base64
import os
import time
import uuid
from datetime import datetime

import httpx
from temporalio import workflow
from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from contracts.jobs import JOB_STATE_QUERY
from core.settings import Settings
from providers.tls import client_context
from temporal import search_attributes as sa
from temporal.client import data_converter
from tests.helpers.job_controls import create_key
from tests.helpers.platform import unique_name, wait_for_job
from tests.helpers.provisioning import IMAGE, deploy


@workflow.defn(name="TestJobWithBrokenState")
class JobWithBrokenState:
    """A job whose `job_state` answer does not decode: what an incompatible worker would send."""

    def __init__(self) -> None:
        self.done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self.done)

    @workflow.query(name=JOB_STATE_QUERY)
    def job_state(self) -> dict:
        return {"job_id": 12, "progress": "not a number"}

    @workflow.signal
    def finish(self) -> None:
        self.done = True


async def test_the_same_idempotency_key_from_two_api_keys_makes_two_jobs(api, api_server):
    created = await api.post("/api/v1/api-keys", json={"name": "other", "scopes": ["write"]})
    assert created.status_code == 201, created.text
    name = unique_name("idemscope")
    body = {"service_name": name, "image": IMAGE}
    headers = {"Idempotency-Key": f"shared-{name}"}
    mine = await api.post("/api/v1/services/deploy", json=body, headers=headers)
    assert mine.status_code == 202, mine.text
    await wait_for_job(api, mine.json()["job_id"])

    async with httpx.AsyncClient(
        verify=client_context(),
        base_url=api_server.url,
        headers={"X-API-Key": created.json()["key"]},
        timeout=30,
    ) as other:
        # Another caller's equal key is another job: neither that job nor a 409 naming it.
        theirs = await other.post("/api/v1/services/deploy", json=body, headers=headers)
        assert theirs.status_code == 202, theirs.text
        assert theirs.json()["job_id"] != mine.json()["job_id"]
        await wait_for_job(api, theirs.json()["job_id"])
        again = await other.post("/api/v1/services/deploy", json=body, headers=headers)
        assert again.json()["job_id"] == theirs.json()["job_id"]
        changed = await other.post(
            "/api/v1/services/deploy", json={**body, "memory": "1Gi"}, headers=headers
        )
        assert changed.status_code == 409
        assert changed.json()["error"]["details"]["job_id"] == theirs.json()["job_id"]


async def test_the_202_carries_the_jobs_own_creation_time(api):
    started = await deploy(api, unique_name("created"))
    job = await wait_for_job(api, started["job_id"])
    assert datetime.fromisoformat(started["created_at"]) == datetime.fromisoformat(
        job["created_at"]
    )
    assert started["estimated_time"]


async def test_job_listing_pages_with_a_token_past_the_limit(api):
    name = unique_name("paged")
    ids = []
    for memory in ("512Mi", "1Gi", "2Gi"):
        job_id = (await deploy(api, name, memory=memory))["job_id"]
        assert (await wait_for_job(api, job_id))["status"] == "completed"
        ids.append(job_id)

    seen, token, pages = [], None, 0
    while True:
        params = {"service_name": name, "limit": 2, **({"page_token": token} if token else {})}
        page = (await api.get("/api/v1/jobs", params=params)).json()
        assert page["total"] == 3 and len(page["jobs"]) <= 2
        seen += [job["job_id"] for job in page["jobs"]]
        pages += 1
        token = page["next_page_token"]
        if not token:
            break
        assert pages < 5
    assert sorted(seen) == sorted(ids) and pages >= 2


async def test_job_listing_filters_by_operation_and_refuses_an_unknown_one(api):
    name = unique_name("byop")
    job_id = (await deploy(api, name))["job_id"]
    assert (await wait_for_job(api, job_id))["status"] == "completed"
    params = {"service_name": name}
    deploys = (await api.get("/api/v1/jobs", params={**params, "operation": "deploy"})).json()
    assert [job["job_id"] for job in deploys["jobs"]] == [job_id]
    others = (await api.get("/api/v1/jobs", params={**params, "operation": "undeploy"})).json()
    assert others["jobs"] == []
    before = (await api.get("/api/v1/jobs", params=params)).json()["total"]
    refused = await api.get("/api/v1/jobs", params={"operation": "nonsense"})
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["details"]
    assert (await api.get("/api/v1/jobs", params=params)).json()["total"] == before


async def test_a_malformed_page_token_answers_400(api):
    for token in ("not base64!", "Z2FyYmFnZSB0b2tlbg"):
        response = await api.get("/api/v1/jobs", params={"page_token": token, "service_name": "x"})
        assert response.status_code == 400, response.text
        assert response.json()["error"]["details"]["field"] == "page_token"


async def test_a_live_read_that_fails_falls_back_to_the_memo_instead_of_a_500(api, client):
    task_queue = f"broken-{uuid.uuid4().hex[:8]}"
    job_id = f"broken-{uuid.uuid4().hex[:12]}"
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[JobWithBrokenState],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        handle = await client.start_workflow(
            JobWithBrokenState.run, id=job_id, task_queue=task_queue
        )
        try:
            job = await api.get(f"/api/v1/jobs/{job_id}")
            assert job.status_code == 200, job.text
            assert job.json()["live"] is False
            logs = await api.get(f"/api/v1/jobs/{job_id}/logs")
            assert logs.status_code == 200, logs.text
            assert logs.json()["live"] is False
        finally:
            await handle.signal(JobWithBrokenState.finish)
            await handle.result()


async def test_the_logs_answer_counts_the_lines_it_returns(api):
    job_id = (await deploy(api, unique_name("lines")))["job_id"]
    await wait_for_job(api, job_id)
    logs = (await api.get(f"/api/v1/jobs/{job_id}/logs", params={"lines": 10_000})).json()
    assert logs["lines"] == len(logs["logs"]) == logs["total"] < 10_000
    assert logs["live"] is True


async def start_unworked_deploy(
    client: Client, name: str, *, memo: dict | None = None, phase: str | None = None
) -> WorkflowHandle:
    """A deploy job as another starter (or an older API) could leave it: its own memo and phase,
    and no worker on its task queue, so it stays as started until terminated."""
    attributes = [SearchAttributePair(sa.OPERATION, "deploy")]
    if phase:
        attributes.append(SearchAttributePair(sa.JOB_PHASE, phase))
    return await client.start_workflow(
        "NoSuchWorkflowType",
        id=f"deploy-{name}-{uuid.uuid4().hex[:8]}",
        task_queue=f"nobody-{uuid.uuid4().hex[:6]}",
        memo=memo,
        search_attributes=TypedSearchAttributes(attributes),
    )


async def test_a_job_written_under_another_payload_key_does_not_break_reads_or_listings(
    api, settings
):
    """Its memo cannot be decoded here: that job says so, and every other job still lists."""
    other_key = base64.b64encode(os.urandom(32)).decode()
    foreign = await Client.connect(
        settings.temporal_address, data_converter=data_converter(Settings(codec_key=other_key))
    )
    handle = await start_unworked_deploy(
        foreign, "foreign", memo={"job": {"current_phase": "running"}}
    )
    job_id = handle.id
    try:
        ok = (await deploy(api, unique_name("beside")))["job_id"]
        one = await api.get(f"/api/v1/jobs/{job_id}")
        assert one.status_code == 200, one.text
        assert "cannot be read" in one.json()["error"]
        listed = await api.get("/api/v1/jobs", params={"limit": 100})
        assert listed.status_code == 200, listed.text
        by_id = {job["job_id"]: job for job in listed.json()["jobs"]}
        assert {ok, job_id} <= set(by_id)
        # The page's memos are decoded together; the one that cannot be read still says so.
        assert "cannot be read" in by_id[job_id]["error"] and not by_id[ok]["error"]
    finally:
        await handle.terminate()


async def test_a_job_started_with_the_older_start_memo_entries_still_names_its_starter(api, client):
    """Jobs started before JobStart carry each start field as a memo entry of its own: its starter
    (a write key, not an admin) may still start it again, in the job's answer and in the listing."""
    created = await api.post("/api/v1/api-keys", json={"name": "legacy", "scopes": ["write"]})
    assert created.status_code == 201, created.text
    writer, key_id = created.json()["key"], created.json()["id"]
    handle = await start_unworked_deploy(
        client,
        "legacy",
        memo={"started_by": key_id, "on_failure": {"mode": "rollback", "hold_seconds": 60}},
    )
    job_id = handle.id
    await handle.terminate()
    async with httpx.AsyncClient(
        verify=client_context(),
        base_url=str(api.base_url),
        headers={"X-API-Key": writer},
        timeout=30,
    ) as own:
        one = await own.get(f"/api/v1/jobs/{job_id}")
        assert one.status_code == 200, one.text
        assert one.json()["status"] == "failed" and one.json()["actions"]["can_retry"]
        listed = (await own.get("/api/v1/jobs", params={"limit": 100})).json()["jobs"]
        [in_list] = [job for job in listed if job["job_id"] == job_id]
        assert in_list["actions"]["can_retry"]
    other = await create_key(api, "write")
    async with httpx.AsyncClient(
        verify=client_context(),
        base_url=str(api.base_url),
        headers={"X-API-Key": other},
        timeout=30,
    ) as stranger:
        assert not (await stranger.get(f"/api/v1/jobs/{job_id}")).json()["actions"]["can_retry"]


async def test_a_job_no_worker_has_picked_up_lists_as_queued_with_or_without_a_phase(api, client):
    """A start leaves the phase unset until a worker runs the job; jobs started before that carry
    'queued'. The status filter and the status each job shows agree for both."""
    started = {}
    for phase in (None, "queued"):
        handle = await start_unworked_deploy(client, "waiting", phase=phase)
        started[handle.id] = handle
    try:
        # The listing reads Temporal's visibility, which shows a just-started job a moment later.
        deadline = time.monotonic() + 15
        while True:
            listed = await api.get("/api/v1/jobs", params={"status": "queued", "limit": 100})
            assert listed.status_code == 200, listed.text
            by_id = {job["job_id"]: job for job in listed.json()["jobs"]}
            if set(started) <= set(by_id) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert set(started) <= set(by_id)
        assert {by_id[job_id]["status"] for job_id in started} == {"queued"}
        running = await api.get("/api/v1/jobs", params={"status": "running", "limit": 100})
        assert not set(started) & {job["job_id"] for job in running.json()["jobs"]}
    finally:
        for handle in started.values():
            await handle.terminate()
