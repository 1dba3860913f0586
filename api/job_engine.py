"""Jobs are Temporal workflows: starting them idempotently, and reading them back from Temporal alone."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionDescription,
)
from temporalio.client import (
    WorkflowExecutionStatus as Status,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.errors import ApiError, not_found
from api.schemas.jobs import Job, JobResponse, JobStatus
from contracts.jobs import (
    CUSTOMER_LABEL,
    JOB_MEMO_KEY,
    JOB_STATE_QUERY,
    REQUEST_HASH_MEMO_KEY,
    SERVICE_LABEL,
    JobState,
    JobSubject,
    JobSummaryMemo,
)
from contracts.resource_lock import LOCK_WORKFLOW
from core.settings import Settings
from temporal import search_attributes as sa

_FAILED_CLOSE = {Status.FAILED, Status.TERMINATED, Status.TIMED_OUT}
_QUERY_TIMEOUT = timedelta(seconds=3)
_STATUS_FILTERS = {
    JobStatus.queued: f"ExecutionStatus = 'Running' AND {sa.JOB_PHASE.name} = 'queued'",
    JobStatus.running: f"ExecutionStatus = 'Running' AND {sa.JOB_PHASE.name} = 'running'",
    JobStatus.completed: "ExecutionStatus = 'Completed'",
    JobStatus.failed: "ExecutionStatus IN ('Failed', 'Terminated', 'TimedOut')",
    JobStatus.cancelled: "ExecutionStatus = 'Canceled'",
}


def request_hash(operation: str, body: Any) -> str:
    canonical = json.dumps({"operation": operation, "body": body}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def job_id_for(operation: str, idempotency_key: str | None) -> str:
    if idempotency_key:
        # Derived from the key, so a retried POST lands on the same workflow id.
        digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]
        return f"{operation}-k{digest}"
    return f"{operation}-{uuid.uuid4().hex[:12]}"


class JobEngine:
    def __init__(self, client: Client, settings: Settings) -> None:
        self.client = client
        self.settings = settings

    def ui_url(self, job_id: str) -> str:
        base = self.settings.temporal_ui_url.rstrip("/")
        return f"{base}/namespaces/{self.settings.temporal_namespace}/workflows/{job_id}"

    def logs_url(self, job_id: str) -> str:
        return f"{self.settings.public_api_url.rstrip('/')}/api/v1/jobs/{job_id}/logs"

    async def start(
        self,
        workflow: str,
        arg: BaseModel,
        *,
        operation: str,
        subject: JobSubject | None,
        labels: dict[str, str | None] | None = None,
        idempotency_key: str | None,
        body: Any,
        estimated_time: str | None = None,
        job_id: str | None = None,
    ) -> JobResponse:
        """Starts the job (or, for a repeated Idempotency-Key, returns it). `job_id` is for a caller
        that had to know the id before the start (to name what it prepares for the job)."""
        job_id = job_id or job_id_for(operation, idempotency_key)
        digest = request_hash(operation, body)
        known = {key: value for key, value in (labels or {}).items() if value}
        attributes = [
            SearchAttributePair(sa.OPERATION, operation),
            SearchAttributePair(sa.JOB_PHASE, "queued"),
        ]
        if subject:
            attributes.append(SearchAttributePair(sa.SUBJECT, subject.key))
        if known:
            attributes.append(SearchAttributePair(sa.LABELS, sa.label_values(known)))
        service_name = known.get(SERVICE_LABEL)
        try:
            handle = await self.client.start_workflow(
                workflow,
                arg,
                id=job_id,
                task_queue=self.settings.task_queue,
                search_attributes=TypedSearchAttributes(attributes),
                # Only a keyed start can be repeated, so only it needs the hash to compare against.
                memo={REQUEST_HASH_MEMO_KEY: digest} if idempotency_key else None,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                static_summary=f"{operation} {subject.name if subject else ''}".strip(),
            )
        except WorkflowAlreadyStartedError:
            if not idempotency_key:
                raise
            handle = self.client.get_workflow_handle(job_id)
        created_at = datetime.now(UTC)
        if idempotency_key:
            description = await handle.describe()
            if await description.memo_value(REQUEST_HASH_MEMO_KEY, default=None) != digest:
                raise ApiError(
                    409,
                    "this Idempotency-Key was already used with a different request",
                    code="idempotency_conflict",
                    details={"job_id": job_id},
                )
            created_at = description.start_time
            existing = await self._job_from_execution(description)
            return self._response(
                existing.job_id,
                existing.status,
                operation,
                service_name,
                created_at,
                estimated_time,
            )
        return self._response(
            job_id, JobStatus.queued, operation, service_name, created_at, estimated_time
        )

    def _response(self, job_id, status, operation, service_name, created_at, estimated_time):
        return JobResponse(
            job_id=job_id,
            status=status,
            operation=operation,
            service_name=service_name,
            created_at=created_at,
            estimated_time=estimated_time,
            job_url=f"{self.settings.public_api_url.rstrip('/')}/api/v1/jobs/{job_id}",
            logs_url=self.logs_url(job_id),
            temporal_ui_url=self.ui_url(job_id),
        )

    async def exists(self, job_id: str) -> bool:
        try:
            await self.client.get_workflow_handle(job_id).describe()
            return True
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return False
            raise

    async def describe(self, job_id: str) -> WorkflowExecutionDescription:
        try:
            description = await self.client.get_workflow_handle(job_id).describe()
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                raise not_found("job", job_id=job_id) from None
            raise
        if description.workflow_type == LOCK_WORKFLOW:
            # The lock that orders a resource's jobs shares their namespace but is not a job.
            raise not_found("job", job_id=job_id)
        return description

    async def state(self, job_id: str) -> JobState | None:
        """The workflow's own view (progress, logs); None when no worker can answer right now."""
        try:
            return await self.client.get_workflow_handle(job_id).query(
                JOB_STATE_QUERY, result_type=JobState, rpc_timeout=_QUERY_TIMEOUT
            )
        except RPCError:
            return None

    async def get(self, job_id: str) -> tuple[Job, JobState | None]:
        description = await self.describe(job_id)
        state = await self.state(job_id)
        return await self._job_from_execution(description, state), state

    async def cancel(self, job_id: str) -> Job:
        description = await self.describe(job_id)
        job = await self._job_from_execution(description)
        if description.status != Status.RUNNING:
            raise ApiError(
                409,
                f"job {job_id} has already ended ({job.status})",
                details={"status": job.status},
            )
        await self.client.get_workflow_handle(job_id).cancel()
        return job

    async def list(
        self, *, service_name: str | None, status: JobStatus | None, limit: int
    ) -> tuple[list[Job], int]:
        # Every workflow in the platform's namespace is a job, so an unfiltered listing sends no
        # query: on SQLite visibility any WHERE clause scans, ten times slower at 10 000 jobs.
        clauses: list[str] = []
        if service_name:
            label = sa.label_values({SERVICE_LABEL: service_name})[0]
            clauses.append(f"{sa.LABELS.name} = {_quote(label)}")
        if status:
            clauses.append(_STATUS_FILTERS[status])
        query = " AND ".join(clauses) or None

        async def page() -> list[Job]:
            executions = self.client.list_workflows(query, limit=limit, page_size=limit)
            return [await self._job_from_execution(execution) async for execution in executions]

        # Independent visibility reads: the page and the total are fetched at the same time.
        jobs, counted = await asyncio.gather(page(), self.client.count_workflows(query))
        jobs.sort(key=lambda job: job.created_at or datetime.min.replace(tzinfo=UTC), reverse=True)
        return jobs, counted.count

    async def _job_from_execution(
        self, execution: WorkflowExecution, state: JobState | None = None
    ) -> Job:
        attributes = execution.typed_search_attributes
        memo = JobSummaryMemo.model_validate(
            await execution.memo_value(JOB_MEMO_KEY, default=None) or {}
        )
        phase = attributes.get(sa.JOB_PHASE)
        labels = dict(
            value.partition("=")[::2] for value in attributes.get(sa.LABELS) or [] if "=" in value
        )
        summary = state or memo
        job_status = _status(execution.status, phase)
        error = summary.error
        if execution.status in (Status.TERMINATED, Status.TIMED_OUT) and not error:
            error = f"job {_status_name(execution.status).lower()} by Temporal"
        started_at = summary.started_at
        completed_at = execution.close_time
        duration = None
        if completed_at:
            duration = round(
                (completed_at - (started_at or execution.start_time)).total_seconds(), 3
            )
        progress = 100 if job_status == JobStatus.completed else summary.progress
        current_phase = summary.current_phase
        if execution.status in (Status.TERMINATED, Status.TIMED_OUT):
            current_phase = "failed"
        return Job(
            job_id=execution.id,
            status=job_status,
            operation=attributes.get(sa.OPERATION),
            service_name=labels.get(SERVICE_LABEL),
            customer_prefix=labels.get(CUSTOMER_LABEL),
            subject=_subject(attributes.get(sa.SUBJECT)),
            labels=labels,
            progress=progress,
            current_phase=current_phase,
            queued_behind=summary.queued_behind if job_status == JobStatus.queued else [],
            created_at=execution.start_time,
            started_at=started_at,
            completed_at=completed_at,
            duration=duration,
            result=summary.result,
            error=error,
            logs_url=self.logs_url(execution.id),
            temporal_ui_url=self.ui_url(execution.id),
        )


def _subject(key: str | None) -> JobSubject | None:
    if not key or ":" not in key:
        return None
    kind, _, name = key.partition(":")
    return JobSubject.model_construct(kind=kind, name=name)


def _status(status: Status | None, phase: str | None) -> JobStatus:
    if status == Status.COMPLETED:
        return JobStatus.completed
    if status == Status.CANCELED:
        return JobStatus.cancelled
    if status in _FAILED_CLOSE:
        return JobStatus.failed
    return JobStatus.queued if phase in (None, "queued") else JobStatus.running


def _status_name(status: Status) -> str:
    return WorkflowExecutionStatus.Name(status.value).removeprefix("WORKFLOW_EXECUTION_STATUS_")


def _quote(value: str) -> str:
    if "'" in value or "\\" in value:
        raise ApiError(400, "invalid filter value", details={"value": value})
    return f"'{value}'"
