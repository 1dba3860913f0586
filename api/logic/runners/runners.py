"""What `/api/v1/runners` needs beyond HTTP: starting a request's runner jobs, and each runner's
status as its job's state joined with its container's real state (Docker, read directly)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import structlog
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.service import RPCError, RPCStatusCode

from api.auth import Principal
from api.errors import ApiError, not_found
from api.job_engine import JobEngine, job_id_for
from api.schemas.jobs import JobStatus
from api.schemas.runners.runners import (
    RUNNER_ID,
    CleanupReport,
    RunnerDestroyed,
    RunnerRequest,
    RunnerResponse,
    RunnersCreated,
    RunnerStatus,
)
from contracts.jobs import JOB_MEMO_KEY, JobSubject, JobSummaryMemo
from contracts.provisioning.drift import RUNNER_KIND
from contracts.runners.names import Operations, Workflows
from contracts.runners.runners import (
    JOB_LABEL,
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    CleanupInput,
    EphemeralRunnerInput,
    RunnerTarget,
)
from core.settings import Settings
from providers import docker_engine
from store.db import Database
from store.oversight import resource_states
from store.oversight.models import ResourceState
from temporal import search_attributes as sa

log = structlog.get_logger(__name__)
RUNNER_ID_PATTERN = re.compile(RUNNER_ID)
_PHASE_STATUS = {
    "queued": "creating",
    "creating": "creating",
    "running": "running",
    "removing": "removing",
    "deregistering": "removing",
    "compensating": "removing",
}


def runner_names(request: RunnerRequest, job_ids: list[str]) -> list[str]:
    """Unique within the request: the given name (suffixed `-1`, `-2`… when several), else the
    runner id itself."""
    if request.runner_name is None:
        return list(job_ids)
    if request.count == 1:
        return [request.runner_name]
    return [f"{request.runner_name}-{i}" for i in range(1, request.count + 1)]


async def create(
    jobs: JobEngine,
    settings: Settings,
    principal: Principal,
    request: RunnerRequest,
    idempotency_key: str | None,
) -> RunnersCreated:
    operation = Operations.RUNNER
    # One key per runner, derived from the request's: a retried POST lands on the same jobs.
    keys = [f"{idempotency_key}#{i}" if idempotency_key else None for i in range(request.count)]
    job_ids = [job_id_for(operation, key, principal) for key in keys]
    names = runner_names(request, job_ids)
    target = RunnerTarget(scope=request.scope, scope_name=request.scope_name)
    body = request.model_dump(mode="json")

    async def start(job_id: str, key: str | None, name: str):
        return await jobs.start(
            Workflows.EPHEMERAL_RUNNER,
            EphemeralRunnerInput(
                target=target,
                runner_name=name,
                labels=request.labels or [],
                runner_group=request.runner_group,
                image=settings.runner_image,
                command=settings.runner_command,
                network=settings.runner_network,
                max_lifetime_seconds=settings.runner_max_lifetime_minutes * 60,
                poll_seconds=settings.runner_poll_seconds,
            ),
            operation=operation,
            subject=JobSubject(kind="runner", name=name),
            labels={"runner": name, "scope": request.scope, "scope_name": request.scope_name},
            caller=principal,
            idempotency_key=key,
            body={**body, "runner_name": name},
            estimated_time="the runner's one job",
            job_id=job_id,
        )

    started = await asyncio.gather(
        *(start(*args) for args in zip(job_ids, keys, names, strict=True))
    )
    runners = [
        RunnerResponse(
            runner_id=job.job_id,
            status="creating"
            if job.status in (JobStatus.queued, JobStatus.running)
            else job.status,
            message=f"runner {name} is being created",
            runner_name=name,
            job_url=job.job_url,
        )
        for job, name in zip(started, names, strict=True)
    ]
    return RunnersCreated(runners=runners, message=f"{len(runners)} runner(s) being created")


def _containers(settings: Settings, job_id: str | None = None) -> dict[str, dict[str, Any]]:
    """The platform's runner containers by job id (one call to the daemon)."""
    label = f"{JOB_LABEL}={job_id}" if job_id else f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}"
    with docker_engine.as_temporal_failures("listing runner containers"):
        listed = docker_engine.client(settings).api.containers(all=True, filters={"label": [label]})
    return {c["Labels"].get(JOB_LABEL, ""): c for c in listed}


async def containers(
    settings: Settings, job_id: str | None = None
) -> dict[str, dict[str, Any]] | None:
    """None when the daemon cannot be read now: the status then says so instead of failing."""
    try:
        return await asyncio.to_thread(_containers, settings, job_id)
    except Exception as error:  # a Docker outage degrades the answer, never fails it
        log.warning("docker unreadable", error=str(error)[:200])
        return None


def _status(
    job_id: str,
    execution: WorkflowExecutionStatus | None,
    memo: JobSummaryMemo,
    labels: dict[str, str],
    container: dict[str, Any] | None,
    docker_known: bool,
    image: str | None,
    created: Any,
    observed: ResourceState | None = None,
) -> RunnerStatus:
    if execution == WorkflowExecutionStatus.COMPLETED:
        status = "completed"
    elif execution == WorkflowExecutionStatus.CANCELED:
        status = "cancelled"
    elif execution in (
        WorkflowExecutionStatus.FAILED,
        WorkflowExecutionStatus.TERMINATED,
        WorkflowExecutionStatus.TIMED_OUT,
    ):
        status = "failed"
    else:
        status = _PHASE_STATUS.get(memo.current_phase, "creating")
        if (
            status == "running"
            and docker_known
            and (container is None or container["State"] != "running")
        ):
            # The job waits for the container to end; what Docker says wins over the job's phase.
            if container is None:
                status = "missing"
            else:
                status = "paused" if container["State"] == "paused" else "exited"
    result = memo.result or {}
    github_id = result.get("github_runner_id") or labels.get("github_runner")
    return RunnerStatus(
        runner_id=job_id,
        status=status,
        container_id=(container or {}).get("Id") or result.get("container_id"),
        image=(container or {}).get("Image") or image,
        created=created,
        labels={k: v for k, v in labels.items() if k in ("scope", "scope_name", "runner")},
        runner_name=labels.get("runner"),
        phase=memo.current_phase,
        github_runner_id=int(github_id) if github_id else None,
        container_state=(container or {}).get("State"),
        error=memo.error,
        **_observation(observed),
    )


def _observation(state: ResourceState | None) -> dict[str, Any]:
    """The drift observer's last look at the runner's container, once it has looked."""
    if state is None or state.observed_at is None:
        return {}
    return {"conditions": state.conditions, "drift": state.drift, "observed_at": state.observed_at}


async def _observed(db: Database, runner_id: str | None = None) -> dict[str, ResourceState]:
    """The runners' `resource_states` rows by runner id (all of them, or the one asked for)."""
    async with db.transaction() as session:
        if runner_id is not None:
            row = await resource_states.get(session, RUNNER_KIND, runner_id)
            return {runner_id: row} if row is not None else {}
        return {row.name: row for row in await resource_states.all_of(session, RUNNER_KIND)}


def _labels(values: list[str] | None) -> dict[str, str]:
    return dict(v.split("=", 1) for v in values or [] if "=" in v)


async def _memo(holder) -> JobSummaryMemo:
    try:
        return JobSummaryMemo.model_validate(await holder.memo_value(JOB_MEMO_KEY, default={}))
    except Exception:  # an unreadable memo shows the runner as creating rather than fail
        return JobSummaryMemo()


async def list_active(
    client: Client, settings: Settings, db: Database, limit: int
) -> list[RunnerStatus]:
    query = f"{sa.OPERATION.name} = '{Operations.RUNNER}' AND ExecutionStatus = 'Running'"
    executions = [e async for e in client.list_workflows(query, limit=limit, page_size=limit)]
    found = await containers(settings) if executions else {}
    observed = await _observed(db) if executions else {}
    statuses = []
    for execution in executions:
        labels = _labels(execution.typed_search_attributes.get(sa.LABELS))
        statuses.append(
            _status(
                execution.id,
                execution.status,
                await _memo(execution),
                labels,
                (found or {}).get(execution.id),
                found is not None,
                settings.runner_image,
                execution.start_time,
                observed.get(execution.id),
            )
        )
    return statuses


async def _describe(client: Client, runner_id: str):
    if not RUNNER_ID_PATTERN.match(runner_id):
        raise not_found("runner", runner_id=runner_id)
    try:
        description = await client.get_workflow_handle(runner_id).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise not_found("runner", runner_id=runner_id) from None
        raise
    if description.workflow_type != Workflows.EPHEMERAL_RUNNER:
        raise not_found("runner", runner_id=runner_id)
    return description


async def get(client: Client, settings: Settings, db: Database, runner_id: str) -> RunnerStatus:
    description = await _describe(client, runner_id)
    found = await containers(settings, runner_id)
    observed = await _observed(db, runner_id)
    return _status(
        runner_id,
        description.status,
        await _memo(description),
        _labels(description.typed_search_attributes.get(sa.LABELS)),
        (found or {}).get(runner_id),
        found is not None,
        settings.runner_image,
        description.start_time,
        observed.get(runner_id),
    )


async def destroy(client: Client, settings: Settings, runner_id: str) -> RunnerDestroyed:
    """Cancels the runner's job, whose compensation removes the container and the registration,
    and waits (bounded) for it: `destroyed` says whether that is done."""
    description = await _describe(client, runner_id)
    handle = client.get_workflow_handle(runner_id)
    if description.status == WorkflowExecutionStatus.RUNNING:
        await handle.cancel()
    try:
        await asyncio.wait_for(_closed(client, runner_id), settings.runner_destroy_wait_seconds)
    except TimeoutError:
        return RunnerDestroyed(
            runner_id=runner_id,
            destroyed=False,
            message="the runner is being destroyed; GET it to follow",
        )
    return RunnerDestroyed(
        runner_id=runner_id, destroyed=True, message=f"runner {runner_id} destroyed"
    )


async def _closed(client: Client, job_id: str) -> WorkflowExecutionStatus | None:
    handle = client.get_workflow_handle(job_id)
    while True:
        description = await handle.describe()
        if description.status != WorkflowExecutionStatus.RUNNING:
            return description.status
        await asyncio.sleep(0.2)


async def cleanup(
    jobs: JobEngine,
    client: Client,
    settings: Settings,
    principal: Principal,
    idempotency_key: str | None,
) -> CleanupReport:
    started = await jobs.start(
        Workflows.RUNNER_CLEANUP,
        CleanupInput(),
        operation=Operations.RUNNER_CLEANUP,
        subject=None,
        labels={},
        caller=principal,
        idempotency_key=idempotency_key,
        body={},
        estimated_time="a few seconds",
    )
    handle = client.get_workflow_handle(started.job_id)
    try:
        result = await asyncio.wait_for(handle.result(), settings.runner_cleanup_wait_seconds)
    except TimeoutError:
        return CleanupReport(
            job_id=started.job_id, completed=False, cleaned_count=0, cleaned_runners=[]
        )
    except WorkflowFailureError as error:
        raise ApiError(
            502, "the cleanup job failed", code="upstream_error", details={"job_id": started.job_id}
        ) from error
    return CleanupReport(
        job_id=started.job_id,
        completed=True,
        cleaned_count=result["cleaned_count"],
        cleaned_runners=result["cleaned_runners"],
    )
