"""Two API processes behave as one API: each a separate OS process started as `make run` starts
the API (the launcher's uvicorn command, settings from the environment only), both on one dev
server, one PostgreSQL database (a scratch one) and one Redis (a key prefix of their own), with one
worker. What one process does, the other honours: an Idempotency-Key starts one job whichever
process gets it, the CRM ingest's rate limit counts across both, the audit trail holds the calls
made on both, a key revoked (or a CRM key rotated) on one is refused by the other within seconds,
and a log stream left on one resumes on the other with Last-Event-ID, nothing lost or doubled."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from temporalio.client import Client

from api.logic.oversight.schedule import schedule_id as reaper_schedule_id
from api.logic.provisioning.drift_schedule import schedule_id as drift_schedule_id
from api.logic.runners.schedule import schedule_id as cleanup_schedule_id
from core.settings import Settings
from providers.tls import client_context
from store.migrate import upgrade
from tests.helpers.log_stream import JobLines, job_logs
from tests.helpers.platform import (
    ADMIN_KEY,
    REDIS_URL,
    ApiProcess,
    make_settings,
    start_worker_process,
    unique_name,
)
from tests.helpers.postgres import scratch_postgres
from tests.helpers.provisioning import IMAGE, deploy
from tests.oversight.audit_helpers import audit_rows

INGEST_LIMIT = 10
PAYLOAD = {"nombre": "Ana", "email": "ana@example.com"}


@dataclass
class Pair:
    settings: Settings
    a: httpx.AsyncClient
    b: httpx.AsyncClient


@pytest.fixture(scope="module")
async def pair(
    tmp_path_factory, temporal_address, localcloud, client: Client
) -> AsyncIterator[Pair]:
    work = tmp_path_factory.mktemp("two-apis")
    async with scratch_postgres("twoapis") as database_url:
        await asyncio.to_thread(upgrade, database_url)
        settings = make_settings(
            work,
            temporal_address,
            localcloud.url,
            database_url=database_url,
            # Replicas on one database: migrated once, above, as docs/deploying.md says.
            migrate_on_start=False,
            redis_url=REDIS_URL,
            redis_key_prefix=f"test-{uuid.uuid4().hex[:10]}",
            crm_ingest_rate_limit=f"{INGEST_LIMIT}/hour",
            assistant_rate_limit=f"{INGEST_LIMIT}/hour",
            job_log_record_seconds=0.2,
            log_stream_poll_seconds=0.2,
            log_stream_keepalive_seconds=0.5,
        )
        worker = start_worker_process(settings)
        try:
            with contextlib.ExitStack() as stack:
                apis = []
                for name in ("a", "b"):
                    (work / name).mkdir()
                    own = settings.model_copy(update={"data_dir": work / name})
                    apis.append(stack.enter_context(ApiProcess(own, work / f"api-{name}.log")))
                async with (
                    _http(apis[0].url) as a,
                    _http(apis[1].url) as b,
                ):
                    yield Pair(settings, a, b)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
            for schedule in (
                reaper_schedule_id(settings),
                cleanup_schedule_id(settings),
                drift_schedule_id(settings),
            ):
                with contextlib.suppress(Exception):
                    await client.get_schedule_handle(schedule).delete()


def _http(url: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        verify=client_context(), base_url=url, headers={"X-API-Key": ADMIN_KEY}, timeout=30
    )


async def test_one_idempotency_key_on_both_processes_starts_one_job(pair: Pair, client: Client):
    body = {"service_name": unique_name("idem"), "image": IMAGE}
    headers = {"Idempotency-Key": f"key-{uuid.uuid4().hex}"}
    answers = await asyncio.gather(
        *(
            http.post("/api/v1/services/deploy", json=body, headers=headers)
            for http in (pair.a, pair.b, pair.a, pair.b)
        )
    )
    assert {r.status_code for r in answers} == {202}, [r.text for r in answers]
    job_ids = {r.json()["job_id"] for r in answers}
    assert len(job_ids) == 1
    (job_id,) = job_ids
    runs = [e async for e in client.list_workflows(f"WorkflowId = '{job_id}'")]
    assert len(runs) == 1
    # The same key with another body is refused by either process, not merged into the job.
    other = {**body, "image": f"{IMAGE.rsplit(':', 1)[0]}:other"}
    for http in (pair.a, pair.b):
        refused = await http.post("/api/v1/services/deploy", json=other, headers=headers)
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["code"] == "idempotency_conflict"


async def test_the_ingest_rate_limit_counts_across_both_processes(pair: Pair):
    created = await pair.a.post("/api/v1/admin/accounts", json={"nombre": "Shared limit"})
    assert created.status_code == 201, created.text
    key = created.json()["api_key"]
    codes = []
    for _ in range(INGEST_LIMIT - 2):
        for http in (pair.a, pair.b):
            codes.append((await http.post(f"/api/v1/ingest/{key}", json=PAYLOAD)).status_code)
    # Each process alone stayed under the limit; together they reached it.
    assert codes.count(200) == INGEST_LIMIT, codes
    assert codes.count(429) == len(codes) - INGEST_LIMIT, codes


async def test_the_assistant_rate_limit_counts_across_both_processes(pair: Pair):
    """Only `redis_url` is set (no assistant storage URL of its own): like the CRM's, the
    assistant's limit falls back to it, or each process would count its own share."""
    assert pair.settings.assistant_rate_limit_storage_url is None
    answers = []
    for _ in range(INGEST_LIMIT - 2):
        for http in (pair.a, pair.b):
            answers.append(await http.get("/api/conversations"))
    codes = [answer.status_code for answer in answers]
    assert codes.count(200) == INGEST_LIMIT, codes
    assert codes.count(429) == len(codes) - INGEST_LIMIT, codes
    remaining = [int(a.headers["X-RateLimit-Remaining"]) for a in answers[:INGEST_LIMIT]]
    assert remaining == list(range(INGEST_LIMIT - 1, -1, -1)), remaining
    assert int(answers[-1].headers["Retry-After"]) >= 1


async def test_the_audit_trail_holds_the_calls_made_on_both_processes(pair: Pair):
    made: dict[str, str] = {}
    for i in range(6):
        for name, http in (("a", pair.a), ("b", pair.b)):
            request_id = f"two-apis-{name}-{i}-{uuid.uuid4().hex[:8]}"
            # A mutating call by an admin: recorded whatever its outcome (404 here).
            answer = await http.delete(
                f"/api/v1/api-keys/{uuid.uuid4()}", headers={"X-Request-ID": request_id}
            )
            assert answer.status_code == 404
            made[request_id] = name
    for http in (pair.a, pair.b):
        deadline = time.monotonic() + 15
        while True:
            rows = await audit_rows(http, expect=0, limit=200, resource="api-keys")
            seen = [row["request_id"] for row in rows if row["request_id"] in made]
            if len(seen) >= len(made) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert sorted(seen) == sorted(made), "each call recorded once, from either process"


async def test_a_key_revoked_on_one_process_is_refused_by_the_other_within_seconds(pair: Pair):
    created = await pair.a.post("/api/v1/api-keys", json={"name": "revoke-me", "scopes": ["read"]})
    assert created.status_code == 201, created.text
    key, key_id = created.json()["key"], created.json()["id"]
    as_key = {"X-API-Key": key}
    # Both processes have the key in their caches.
    for http in (pair.a, pair.b):
        assert (await http.get("/api/v1/alerts", headers=as_key)).status_code == 200
    revoked_at = time.monotonic()
    assert (await pair.a.delete(f"/api/v1/api-keys/{key_id}")).status_code == 204
    assert (await pair.a.get("/api/v1/alerts", headers=as_key)).status_code == 401
    while (await pair.b.get("/api/v1/alerts", headers=as_key)).status_code == 200:
        # Two recheck periods (api_key_recheck_seconds, 1 s by default) at worst; the cache's own
        # TTL (10 s) is not what bounds it.
        assert time.monotonic() - revoked_at < 3.0, "still accepted by the other process"
        await asyncio.sleep(0.1)
    assert (await pair.b.get("/api/v1/alerts", headers=as_key)).status_code == 401


async def test_a_crm_key_rotated_on_one_process_stops_on_the_other_within_its_cache_ttl(
    pair: Pair,
):
    created = await pair.a.post("/api/v1/admin/accounts", json={"nombre": "Rotated"})
    account_id, old = created.json()["id"], created.json()["api_key"]
    assert (await pair.b.post(f"/api/v1/ingest/{old}", json=PAYLOAD)).status_code == 200
    rotated = await pair.a.post(f"/api/v1/admin/accounts/{account_id}/rotate-key")
    assert rotated.status_code == 200, rotated.text
    rotated_at = time.monotonic()
    new = rotated.json()["api_key"]
    while (await pair.b.post(f"/api/v1/ingest/{old}", json=PAYLOAD)).status_code == 200:
        # store/crm/cache.py's TTL_SECONDS (2 s), plus a request.
        assert time.monotonic() - rotated_at < 3.0, "old key still accepted by the other process"
        await asyncio.sleep(0.4)
    assert (await pair.b.post(f"/api/v1/ingest/{old}", json=PAYLOAD)).status_code == 404
    assert (await pair.b.post(f"/api/v1/ingest/{new}", json=PAYLOAD)).status_code == 200


async def test_a_log_stream_resumed_on_the_other_process_loses_and_repeats_nothing(pair: Pair):
    async with pair.a.stream("GET", "/logs/stream") as response:
        assert response.status_code == 200
        job_id = (await deploy(pair.b, unique_name("two-apis")))["job_id"]
        reader = JobLines(response, job_id)
        try:
            first = (await reader.until(2))[:2]
        finally:
            await reader.close()
    # Gone from process A; the job goes on logging until it ends.
    logs = await job_logs(pair.a, job_id)
    headers = {"Last-Event-ID": str(first[-1]["id"])}
    params = {"job_id": job_id}
    async with pair.b.stream("GET", "/logs/stream", headers=headers, params=params) as response:
        reader = JobLines(response, job_id)
        try:
            await reader.until(len(logs) - len(first))
            await asyncio.sleep(0.6)  # nothing more comes (no duplicate)
            rest = list(reader.lines)
        finally:
            await reader.close()
    got = first + rest
    assert [g["line"] for g in got] == logs
    assert [g["line_no"] for g in got] == list(range(len(logs)))
    assert len({g["id"] for g in got}) == len(got)
