"""GET /logs/stream: authenticated, live, and resumable by Last-Event-ID without loss or duplicates,
also after the API restarts."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker

from providers.tls import client_context
from store.migrate import upgrade
from tests.helpers.log_stream import JobLines, job_logs, sse
from tests.helpers.platform import ADMIN_KEY, ApiServer
from tests.helpers.postgres import scratch_postgres
from tests.helpers.provisioning import deploy
from tests.hosting.conftest import hosting_settings, key_with


def _stream(http: httpx.AsyncClient, job_id: str | None = None, after: int | None = None, **kw):
    headers = dict(kw.pop("headers", {}))
    if after is not None:
        headers["Last-Event-ID"] = str(after)
    params = {"job_id": job_id} if job_id else {}
    return http.stream("GET", "/logs/stream", params=params, headers=headers, **kw)


async def test_the_stream_needs_a_valid_key_with_the_hosting_scope(hosting):
    missing = await hosting.get("/logs/stream", headers={"X-API-Key": ""})
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "unauthorized"
    unknown = await hosting.get("/logs/stream", headers={"X-API-Key": "csk_nope"})
    assert unknown.status_code == 401
    wrong = await key_with(hosting, "read", "write")
    denied = await hosting.get("/logs/stream", headers={"X-API-Key": wrong})
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "forbidden"
    bad = await hosting.get("/logs/stream", headers={"Last-Event-ID": "abc"})
    assert bad.status_code == 400
    scoped = await key_with(hosting, "hosting")
    async with _stream(hosting, headers={"X-API-Key": scoped}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        # Nothing to send: keep-alive comments come (every 0.5 s here).
        async with asyncio.timeout(10):
            async for event in sse(response):
                if event.get("comment") == "keep-alive":
                    break


async def test_a_running_job_s_lines_arrive_live_and_once(hosting, localcloud):
    async with _stream(hosting, job_id="deploy-placeholder") as idle:
        assert idle.status_code == 200  # a job filter that matches nothing yet is fine
    name = f"hs-{uuid.uuid4().hex[:8]}"
    # The service's creation is held 3 s, so the job is still running when its first lines come,
    # however busy the machine (a deploy otherwise ends in about a second).
    slow = localcloud.inject_fault(
        fail_next=1, code=None, latency_ms=3000, method="POST", path_contains=f"serviceId={name}"
    )
    # Opened before the job starts: its lines come as they happen.
    async with _stream(hosting) as response:
        job_id = (await deploy(hosting, name))["job_id"]
        reader = JobLines(response, job_id)
        try:
            await reader.until(1)
            # The first line came while the job was still running.
            job = (await hosting.get(f"/api/v1/jobs/{job_id}")).json()
            assert job["status"] in {"queued", "running"}
            logs = await job_logs(hosting, job_id)
            got = await reader.until(len(logs))
            await asyncio.sleep(0.5)  # nothing more comes (no duplicate)
            assert len(reader.lines) == len(logs)
        finally:
            await reader.close()
    assert localcloud.fired(slow) == 1
    assert [g["line"] for g in got] == logs
    assert [g["line_no"] for g in got] == list(range(len(got)))
    ids = [g["id"] for g in got]
    assert ids == sorted(set(ids))


async def _first_lines(http: httpx.AsyncClient, count: int) -> tuple[str, list[dict]]:
    """Starts a deploy with a stream open, and hangs up after its first `count` lines."""
    async with _stream(http) as response:
        job_id = (await deploy(http, f"hs-{uuid.uuid4().hex[:8]}"))["job_id"]
        reader = JobLines(response, job_id)
        try:
            return job_id, (await reader.until(count))[:count]
        finally:
            await reader.close()


async def _rest(
    http: httpx.AsyncClient, job_id: str, after: int, count: int, seconds: float = 60
) -> list[dict]:
    async with _stream(http, job_id=job_id, after=after) as response:
        reader = JobLines(response, job_id)
        try:
            await reader.until(count, seconds=seconds)
            await asyncio.sleep(0.5)  # nothing more comes (no duplicate)
            return list(reader.lines)
        finally:
            await reader.close()


async def test_reconnecting_with_last_event_id_gets_exactly_the_missed_lines(hosting):
    job_id, first = await _first_lines(hosting, 2)
    # Disconnected while the job goes on logging, until it ends.
    logs = await job_logs(hosting, job_id)
    rest = await _rest(hosting, job_id, first[-1]["id"], len(logs) - len(first))
    got = first + rest
    assert [g["line"] for g in got] == logs
    assert len({g["id"] for g in got}) == len(got)


# Workflows no worker answers: a query to each waits out its timeout (3 s). A long suite leaves
# such workflows behind (each test's worker is gone when it ends); so does a worker outage.
_UNANSWERED = 128
# A resumed stream gets the rest of an ended job's lines within this; before, it waited for whole
# passes that queried every such workflow (128 × 3 s / 8 at a time: 48 s each). 128 is past the
# feed's follower cap (api/job_log_feed.py), so passes read the rest; quiet, the lines come in
# about 3 s (20 s when the feed held 128 long polls on one connection). Not tighter: in the full
# suite, on two busy cores, they have taken more than 15 s.
_PROMPTLY = 30


@workflow.defn(name="LogStreamTestDone", sandboxed=False)
class _Done:
    @workflow.run
    async def run(self) -> None:
        return None


async def test_running_workflows_no_worker_answers_do_not_hold_up_an_ended_job_s_lines(
    hosting, client: Client
):
    """The job ends while no stream is open, so its last lines are recorded by the feed's next
    pass; running workflows on a task queue nobody polls are followed (one held long poll each),
    not queried by every pass, and the pass records the ended job at once."""
    queue = f"nobody-{uuid.uuid4().hex[:8]}"
    stranded = await asyncio.gather(
        *(
            client.start_workflow("LogStreamTestIdle", id=f"{queue}-{i}", task_queue=queue)
            for i in range(_UNANSWERED)
        )
    )
    try:
        job_id, first = await _first_lines(hosting, 2)
        logs = await job_logs(hosting, job_id)
        rest = await _rest(
            hosting, job_id, first[-1]["id"], len(logs) - len(first), seconds=_PROMPTLY
        )
    finally:
        await asyncio.gather(*(handle.terminate() for handle in stranded))
    got = first + rest
    assert [g["line"] for g in got] == logs
    assert len({g["id"] for g in got}) == len(got)


async def test_the_catch_up_on_jobs_ended_before_the_feed_started_does_not_hold_up_new_lines(
    settings, worker, client: Client
):
    """A fresh API's feed first catches up on the jobs that ended since any feed last ran, here
    workflows whose worker has gone (a query timeout each): that runs beside the passes, so a job
    that ends meanwhile, while no stream is open, still reaches a resumed stream at once."""
    queue = f"gone-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[_Done]):
        await asyncio.gather(
            *(
                client.execute_workflow(_Done.run, id=f"{queue}-{i}", task_queue=queue)
                for i in range(_UNANSWERED)
            )
        )
    admin = {"X-API-Key": ADMIN_KEY}
    with ApiServer(hosting_settings(settings)) as api:
        async with httpx.AsyncClient(
            verify=client_context(), base_url=api.url, headers=admin, timeout=30
        ) as http:
            job_id, first = await _first_lines(http, 2)
            logs = await job_logs(http, job_id)
            rest = await _rest(
                http, job_id, first[-1]["id"], len(logs) - len(first), seconds=_PROMPTLY
            )
    got = first + rest
    assert [g["line"] for g in got] == logs
    assert len({g["id"] for g in got}) == len(got)


async def test_resume_works_across_a_restart_of_the_api(settings, worker):
    admin = {"X-API-Key": ADMIN_KEY}
    with ApiServer(hosting_settings(settings)) as first_api:
        async with httpx.AsyncClient(
            verify=client_context(), base_url=first_api.url, headers=admin, timeout=30
        ) as http:
            job_id, first = await _first_lines(http, 2)
    # The first API is gone; the job ends meanwhile (its worker is the suite's).
    with ApiServer(hosting_settings(settings)) as second_api:
        async with httpx.AsyncClient(
            verify=client_context(), base_url=second_api.url, headers=admin, timeout=30
        ) as http:
            logs = await job_logs(http, job_id)
            rest = await _rest(http, job_id, first[-1]["id"], len(logs) - len(first))
    got = first + rest
    assert [g["line"] for g in got] == logs
    assert len({g["id"] for g in got}) == len(got)


async def test_the_process_that_records_a_line_sends_it_at_once_not_at_the_next_pass(
    settings, worker, localcloud
):
    """The feed's passes and the streams' polls are a minute apart here: the job's lines still
    come as it logs them (this process follows the job it started, through its history)."""
    slow_passes = hosting_settings(settings).model_copy(
        update={"job_log_record_seconds": 60, "log_stream_poll_seconds": 60}
    )
    name = f"hs-{uuid.uuid4().hex[:8]}"
    held = localcloud.inject_fault(
        fail_next=1, code=None, latency_ms=3000, method="POST", path_contains=f"serviceId={name}"
    )
    admin = {"X-API-Key": ADMIN_KEY}
    with ApiServer(slow_passes) as api:
        async with (
            httpx.AsyncClient(
                verify=client_context(), base_url=api.url, headers=admin, timeout=30
            ) as http,
            _stream(http) as response,
        ):
            await asyncio.sleep(0.5)  # the feed's first pass (at the stream's start) is done
            started = asyncio.get_running_loop().time()
            job_id = (await deploy(http, name))["job_id"]
            reader = JobLines(response, job_id)
            try:
                # The first lines, logged as the job starts, come while it is held.
                await reader.until(1, seconds=3)
                logs = await job_logs(http, job_id)
                got = await reader.until(len(logs), seconds=5)
            finally:
                await reader.close()
            took = asyncio.get_running_loop().time() - started
    assert localcloud.fired(held) == 1
    assert [g["line"] for g in got] == logs
    assert took < 20  # far below the next pass (60 s)


async def test_lines_another_process_records_reach_every_stream_at_once_by_notify(
    settings, worker, localcloud
):
    """Two API processes on one PostgreSQL database. B starts a deploy and records its lines (it
    follows the job it started); A's own feed passes and shared poll are a minute apart, so only
    B's NOTIFY can bring A's reader the lines within seconds, and A's reader hands each line to
    every one of A's streams (with and without a job filter) once, in order."""
    name = f"hs-{uuid.uuid4().hex[:8]}"
    held = localcloud.inject_fault(
        fail_next=1, code=None, latency_ms=2000, method="POST", path_contains=f"serviceId={name}"
    )
    admin = {"X-API-Key": ADMIN_KEY}
    async with scratch_postgres("logfanout") as url:
        await asyncio.to_thread(upgrade, url)
        b_settings = hosting_settings(settings).model_copy(
            update={"database_url": url, "migrate_on_start": False}
        )
        a_settings = b_settings.model_copy(
            update={"job_log_record_seconds": 60, "log_stream_poll_seconds": 60}
        )
        with ApiServer(b_settings) as b, ApiServer(a_settings) as a:
            async with (
                httpx.AsyncClient(
                    verify=client_context(), base_url=a.url, headers=admin, timeout=30
                ) as http_a,
                httpx.AsyncClient(
                    verify=client_context(), base_url=b.url, headers=admin, timeout=30
                ) as http_b,
                _stream(http_b) as recording,  # B's feed records while a stream is open there
                _stream(http_a) as first,
                _stream(http_a) as second,
            ):
                assert recording.status_code == first.status_code == second.status_code == 200
                # A's feed has made its first pass (at its first stream) before the job starts,
                # so it does not know the job for a minute.
                async with _stream(http_a) as probe, asyncio.timeout(10):
                    async for event in sse(probe):
                        if event.get("comment") == "keep-alive":
                            break
                started = asyncio.get_running_loop().time()
                job_id = (await deploy(http_b, name))["job_id"]
                async with _stream(http_a, job_id=job_id) as filtered:
                    readers = [JobLines(r, job_id) for r in (first, second, filtered)]
                    try:
                        await readers[0].until(1, seconds=10)
                        logs = await job_logs(http_b, job_id)
                        got = [await r.until(len(logs), seconds=10) for r in readers]
                    finally:
                        for reader in readers:
                            await reader.close()
                took = asyncio.get_running_loop().time() - started
    assert localcloud.fired(held) == 1
    for lines in got:
        assert [g["line"] for g in lines] == logs
        assert [g["id"] for g in lines] == [g["id"] for g in got[0]]
    assert took < 30  # far below A's next pass or poll (60 s)
