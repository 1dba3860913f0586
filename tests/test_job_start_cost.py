"""What keeps a job start and a listing cheap under load, each kept honest: one auth lookup
and one estimate measurement for a burst, no describe() per start with created_at still the job's
own, and a listing's total reused only until something changes."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.client import (
    Client,
    CountWorkflowsInput,
    Interceptor,
    ListWorkflowsInput,
    OutboundInterceptor,
    WorkflowExecutionAsyncIterator,
    WorkflowExecutionCount,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from api.auth import Principal, _PrincipalCache
from api.job_engine import JobEngine
from core.settings import Settings
from temporal import search_attributes as sa
from tests.helpers.platform import unique_name, wait_for_job
from tests.helpers.provisioning import IMAGE

PRINCIPAL = Principal(key_id=uuid.uuid4(), name="k", scopes=frozenset({"read"}))


async def test_a_burst_with_a_cold_key_cache_costs_one_lookup():
    cache = _PrincipalCache()
    calls = 0

    async def find() -> Principal:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return PRINCIPAL

    found = await asyncio.gather(*(cache.principal("h", find) for _ in range(50)))
    assert found == [PRINCIPAL] * 50 and calls == 1
    assert await cache.principal("h", find) == PRINCIPAL and calls == 1  # cached


async def test_a_key_in_use_is_looked_up_again_in_the_background_before_it_expires(monkeypatch):
    cache = _PrincipalCache()
    answers = [PRINCIPAL, PRINCIPAL, None]
    calls = 0

    async def find() -> Principal | None:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return answers[calls - 1]

    assert await cache.principal("h", find) == PRINCIPAL
    monkeypatch.setattr(_PrincipalCache, "TTL_SECONDS", 0.08)
    await asyncio.sleep(0.05)  # past half the TTL: answered from the cache at once, refreshed
    began = asyncio.get_running_loop().time()
    assert await cache.principal("h", find) == PRINCIPAL
    assert asyncio.get_running_loop().time() - began < 0.02
    await asyncio.sleep(0)
    assert calls == 2
    await asyncio.sleep(0.25)  # expired: a request waits for the lookup, which finds it revoked
    assert await cache.principal("h", find) is None and calls == 3


async def test_a_lookup_that_began_before_a_revocation_is_not_cached():
    cache = _PrincipalCache()
    release = asyncio.Event()

    async def find() -> Principal:
        await release.wait()
        return PRINCIPAL

    pending = asyncio.create_task(cache.principal("h", find))
    await asyncio.sleep(0)
    cache.clear()  # what revoking a key through the API does
    release.set()
    assert await pending == PRINCIPAL
    await asyncio.sleep(0)

    async def revoked() -> None:
        return None

    assert await cache.principal("h", revoked) is None  # not answered from the old lookup


async def test_a_waiter_that_goes_away_does_not_cancel_the_others_lookup():
    cache = _PrincipalCache()

    async def find() -> Principal:
        await asyncio.sleep(0.05)
        return PRINCIPAL

    first = asyncio.create_task(cache.principal("h", find))
    second = asyncio.create_task(cache.principal("h", find))
    await asyncio.sleep(0.01)
    first.cancel()
    assert await second == PRINCIPAL


class _CountingVisibility(Interceptor):
    """Counts the visibility reads a real client sends to the dev server."""

    def __init__(self) -> None:
        self.lists = 0
        self.counts = 0

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        reads = self

        class Counting(OutboundInterceptor):
            def list_workflows(self, input: ListWorkflowsInput) -> WorkflowExecutionAsyncIterator:
                reads.lists += 1
                return super().list_workflows(input)

            async def count_workflows(self, input: CountWorkflowsInput) -> WorkflowExecutionCount:
                reads.counts += 1
                return await super().count_workflows(input)

        return Counting(next)


@workflow.defn(name="JobStartCostSample")
class _SampleJob:
    """A job of the measured operation: the estimate reads completed jobs from visibility."""

    @workflow.run
    async def run(self) -> None:
        return None


async def _counted_engine(temporal_address: str) -> tuple[JobEngine, _CountingVisibility]:
    reads = _CountingVisibility()
    client = await Client.connect(temporal_address, interceptors=[reads])
    return JobEngine(client, Settings(codec_key=None)), reads


async def _complete_jobs(temporal_address: str, operation: str, count: int, visible: int) -> str:
    """Runs `count` jobs of `operation` to completion and waits until visibility lists `visible`
    completed ones; answers the visibility query that finds them."""
    client = await Client.connect(temporal_address)
    query = f"{sa.OPERATION.name} = '{operation}' AND ExecutionStatus = 'Completed'"
    queue = f"job-start-cost-{uuid.uuid4().hex}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[_SampleJob],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        for _ in range(count):
            await client.execute_workflow(
                _SampleJob.run,
                id=f"{operation}-{uuid.uuid4().hex[:8]}",
                task_queue=queue,
                search_attributes=TypedSearchAttributes(
                    [SearchAttributePair(sa.OPERATION, operation)]
                ),
            )
    for _ in range(100):
        if (await client.count_workflows(query)).count == visible:
            return query
        await asyncio.sleep(0.05)
    raise AssertionError(f"visibility never listed {visible} jobs of {operation}")


async def test_concurrent_starts_measure_the_estimate_once_and_a_stale_one_in_the_background(
    monkeypatch, temporal_address
):
    operation = unique_name("estimate")
    await _complete_jobs(temporal_address, operation, 1, visible=1)
    engine, reads = await _counted_engine(temporal_address)
    estimates = await asyncio.gather(*(engine.estimated_time(operation, "x") for _ in range(50)))
    assert set(estimates) == {"about 5 seconds"} and reads.lists == 1

    monkeypatch.setattr("api.job_engine._ESTIMATE_TTL_SECONDS", 0.0)
    # Stale: answered at once with the last value while one re-measurement runs.
    again = await asyncio.gather(*(engine.estimated_time(operation, "x") for _ in range(50)))
    assert set(again) == {"about 5 seconds"} and reads.lists == 2
    await asyncio.sleep(0.2)
    assert reads.lists == 2


async def test_a_listing_total_is_reused_for_the_same_filters_until_a_job_changes(
    temporal_address,
):
    operation = unique_name("total")
    query = await _complete_jobs(temporal_address, operation, 1, visible=1)
    engine, reads = await _counted_engine(temporal_address)
    assert await engine._count(query) == 1
    await _complete_jobs(temporal_address, operation, 1, visible=2)  # one more, from elsewhere
    assert await engine._count(query) == 1 and reads.counts == 1
    assert await engine._count(f"{query} AND WorkflowType = 'JobStartCostSample'") == 2
    assert reads.counts == 2
    engine._jobs_changed()  # a start or a cancel through this process
    assert await engine._count(query) == 2 and reads.counts == 3


async def test_the_202_created_at_is_kept_with_the_job_and_a_repeated_key_answers_the_first(
    api, settings
):
    body = {"service_name": unique_name("created"), "image": IMAGE}
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    first = await api.post("/api/v1/services/deploy", json=body, headers=headers)
    assert first.status_code == 202, first.text
    created_at = datetime.fromisoformat(first.json()["created_at"])
    await asyncio.sleep(0.01)
    again = await api.post("/api/v1/services/deploy", json=body, headers=headers)
    assert datetime.fromisoformat(again.json()["created_at"]) == created_at

    job_id = first.json()["job_id"]
    client = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
    described = await client.get_workflow_handle(job_id).describe()
    assert described.typed_search_attributes.get(sa.CREATED_AT) == created_at
    # Set before the start reached Temporal, so within the request of its own start time.
    assert timedelta(0) <= described.start_time - created_at < timedelta(seconds=5)

    job = await wait_for_job(api, job_id)
    assert datetime.fromisoformat(job["created_at"]) == created_at
    listed = await api.get("/api/v1/jobs", params={"service_name": body["service_name"]})
    assert [datetime.fromisoformat(j["created_at"]) for j in listed.json()["jobs"]] == [created_at]
