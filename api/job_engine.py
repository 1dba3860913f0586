"""Jobs are Temporal workflows: starting them idempotently, and reading them back from Temporal alone."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import re
import statistics
import time
import uuid
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from pydantic import BaseModel
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.api.workflow.v1 import WorkflowExecutionInfo
from temporalio.api.workflowservice.v1 import ListWorkflowExecutionsRequest
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

from api import audit_trail
from api import job_history as history
from api.auth import Principal
from api.errors import ApiError, not_found
from api.job_actions import actions_for
from api.schemas.jobs import (
    Job,
    JobCleanup,
    JobList,
    JobLogs,
    JobResponse,
    JobStatus,
    RootCause,
)
from contracts.job_cleanup import cleanup_job_id
from contracts.jobs import (
    COMPENSATING,
    CUSTOMER_LABEL,
    JOB_MEMO_KEY,
    JOB_START_MEMO_KEY,
    JOB_STATE_QUERY,
    LEGACY_START_MEMO_KEYS,
    NEEDS_ATTENTION,
    RETRY_OF_LABEL,
    SERVICE_LABEL,
    FailurePolicy,
    JobStart,
    JobState,
    JobSubject,
    JobSummaryMemo,
    StepRetry,
)
from contracts.jobs import RootCause as RecordedCause
from contracts.resource_lock import LOCK_WORKFLOW
from contracts.task_queues import queue as task_queue
from contracts.task_queues import queue_for_workflow
from contracts.workflow_timeouts import timeouts_for
from core.settings import Settings
from temporal import search_attributes as sa

log = structlog.get_logger(__name__)

# `on_failure` of the job a request starts: the X-Job-On-Failure header, read by the JobEngineDep
# dependency of every job-starting route (api/deps.py), so no system's request body changes.
requested_failure_mode: ContextVar[str | None] = ContextVar("requested_failure_mode", default=None)

_FAILED_CLOSE = {Status.FAILED, Status.TERMINATED, Status.TIMED_OUT}
# Raw visibility statuses of ended jobs whose work was undone (a fresh retry may start them again).
_ENDED_UNDONE = {status.value for status in (*_FAILED_CLOSE, Status.CANCELED)}
_QUERY_TIMEOUT = timedelta(seconds=3)
# estimated_time: the median of this many recent completed jobs of the operation, re-read this often.
_ESTIMATE_SAMPLE = 20
_ESTIMATE_TTL_SECONDS = 60.0
# How long a listing's total may be reused for the same filters (see JobEngine._count).
_COUNT_TTL_SECONDS = 2.0
# Where a job started before JobStart names its starter (one of LEGACY_START_MEMO_KEYS).
_LEGACY_STARTED_BY = "started_by"
# A job no worker has picked up yet has no phase: starts leave it unset (one search attribute less
# to encode per start, issue 9); jobs started before that carry 'queued'.
_STATUS_FILTERS = {
    JobStatus.queued: (
        f"ExecutionStatus = 'Running' AND "
        f"({sa.JOB_PHASE.name} = 'queued' OR {sa.JOB_PHASE.name} IS NULL)"
    ),
    JobStatus.running: f"ExecutionStatus = 'Running' AND {sa.JOB_PHASE.name} = 'running'",
    JobStatus.needs_attention: (
        f"ExecutionStatus = 'Running' AND {sa.JOB_PHASE.name} = '{NEEDS_ATTENTION}'"
    ),
    JobStatus.compensating: (
        f"ExecutionStatus = 'Running' AND {sa.JOB_PHASE.name} = '{COMPENSATING}'"
    ),
    JobStatus.completed: "ExecutionStatus = 'Completed'",
    JobStatus.failed: "ExecutionStatus IN ('Failed', 'Terminated', 'TimedOut')",
    JobStatus.cancelled: "ExecutionStatus = 'Canceled'",
}


def request_hash(operation: str, body: Any) -> str:
    canonical = json.dumps({"operation": operation, "body": body}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def job_id_for(operation: str, idempotency_key: str | None, caller: Principal) -> str:
    if idempotency_key:
        # Derived from the caller's API key and the Idempotency-Key, so a retried POST lands on the
        # same workflow id and another caller's equal key on another one (keys are per caller).
        scoped = f"{caller.key_id}:{idempotency_key}"
        digest = hashlib.sha256(scoped.encode()).hexdigest()[:20]
        return f"{operation}-k{digest}"
    return f"{operation}-{uuid.uuid4().hex[:12]}"


class PageTokens:
    """Visibility's next-page tokens as opaque base64url strings, sealed with an HMAC bound to the
    listing's query: a token this API did not hand out for these filters is a 400 here, not an
    error (or a retry loop) in Temporal. Keyed from the codec key, so every API process of the
    platform accepts the others' tokens."""

    _MAC_BYTES = 12

    def __init__(self, secret: str | None) -> None:
        self._key = hashlib.sha256(b"conneskills-page-token:" + (secret or "").encode()).digest()

    def _mac(self, query: str | None, raw: bytes) -> bytes:
        message = (query or "").encode() + b"\0" + raw
        return hmac.new(self._key, message, hashlib.sha256).digest()[: self._MAC_BYTES]

    def encode(self, query: str | None, raw: bytes | None) -> str | None:
        if not raw:
            return None
        return base64.urlsafe_b64encode(self._mac(query, raw) + raw).decode().rstrip("=")

    def decode(self, query: str | None, token: str | None) -> bytes | None:
        if not token:
            return None
        try:
            sealed = base64.b64decode(
                token + "=" * (-len(token) % 4), altchars=b"-_", validate=True
            )
        except (binascii.Error, ValueError):
            raise _bad_page_token() from None
        mac, raw = sealed[: self._MAC_BYTES], sealed[self._MAC_BYTES :]
        if not raw or not hmac.compare_digest(mac, self._mac(query, raw)):
            raise _bad_page_token()
        return raw


def _bad_page_token() -> ApiError:
    return ApiError(
        400,
        "invalid page_token: pass back a next_page_token this API returned",
        details={"field": "page_token"},
    )


class JobEngine:
    def __init__(
        self,
        client: Client,
        settings: Settings,
        cleanup_steps: Mapping[str, str] | None = None,
        no_fresh_retry: dict[str, str] | None = None,
        on_started: Callable[[str], None] | None = None,
    ) -> None:
        self.client = client
        self.settings = settings
        # Told the operation of each job this engine started (not of one a repeated key returned).
        self.on_started = on_started
        # Every system's cleanup step after a force-cancel (JOB_CLEANUPS of api/routes/<system>),
        # and the task queue of the system that serves it.
        self.cleanup_steps = list(cleanup_steps or {})
        self.cleanup_queues = {
            step: task_queue(settings.task_queue, system)
            for step, system in (cleanup_steps or {}).items()
        }
        # Operations a fresh retry cannot start again, with why (NO_FRESH_RETRY of each system).
        self.no_fresh_retry = dict(no_fresh_retry or {})
        # Told each job this process starts (the job log feed follows it from its first line).
        self.on_start: Callable[[str], None] | None = None
        self._estimates: dict[str, tuple[float, str | None]] = {}
        self._measurements: dict[str, asyncio.Task[str | None]] = {}
        self._counts: dict[str | None, tuple[float, int]] = {}
        self._count_generation = 0
        self._page_tokens = PageTokens(settings.codec_key)

    def ui_url(self, job_id: str) -> str:
        base = self.settings.temporal_ui_url.rstrip("/")
        return f"{base}/namespaces/{self.settings.temporal_namespace}/workflows/{job_id}"

    def job_url(self, job_id: str) -> str:
        return f"{self.settings.public_api_url.rstrip('/')}/api/v1/jobs/{job_id}"

    def logs_url(self, job_id: str) -> str:
        return f"{self.settings.public_api_url.rstrip('/')}/api/v1/jobs/{job_id}/logs"

    def run_url(self, job_id: str, run_id: str | None, event_id: int | None) -> str:
        """The run's history in the Web UI (2.x), at one event when given."""
        if not run_id:
            return self.ui_url(job_id)
        url = f"{self.ui_url(job_id)}/{run_id}/history"
        return f"{url}/events/{event_id}" if event_id else url

    def failure_policy(self, mode: str | None = None) -> FailurePolicy:
        return FailurePolicy(
            mode=mode or requested_failure_mode.get() or "rollback",
            hold_seconds=self.settings.job_hold_seconds,
        )

    def step_retry(self) -> StepRetry:
        return step_retry_from(self.settings)

    async def start(
        self,
        workflow: str,
        arg: BaseModel | dict[str, Any],
        *,
        operation: str,
        subject: JobSubject | None,
        caller: Principal,
        labels: dict[str, str | None] | None = None,
        idempotency_key: str | None,
        body: Any,
        estimated_time: str | None = None,
        job_id: str | None = None,
        on_failure: str | None = None,
    ) -> JobResponse:
        """Starts the job (or, for a repeated Idempotency-Key of the same caller, returns it).
        `job_id` is for a caller that had to know the id before the start (to name what it
        prepares for the job). `estimated_time` is what to say when no job of this operation has
        completed yet to measure."""
        job_id = job_id or job_id_for(operation, idempotency_key, caller)
        # Only a keyed start can be repeated, so only it needs the hash to compare against.
        digest = request_hash(operation, body) if idempotency_key else None
        known = {key: value for key, value in (labels or {}).items() if value}
        attributes = [SearchAttributePair(sa.OPERATION, operation)]
        if subject:
            attributes.append(SearchAttributePair(sa.SUBJECT, subject.key))
        if known:
            attributes.append(SearchAttributePair(sa.LABELS, sa.label_values(known)))
        # The start answer carries no time, so the API sets the job's created_at itself and keeps
        # it with the job; reading Temporal's start time back cost a describe() per start.
        created_at = _now()
        attributes.append(SearchAttributePair(sa.CREATED_AT, created_at))
        memo = JobStart(
            step_retry=self.step_retry(),
            on_failure=self.failure_policy(on_failure),
            started_by=str(caller.key_id),
            request_hash=digest,
        ).memo()
        try:
            handle = await self.client.start_workflow(
                workflow,
                arg,
                id=job_id,
                # Its system's queue, served by the workers of that system (docs/operating.md).
                task_queue=queue_for_workflow(self.settings.task_queue, workflow),
                search_attributes=TypedSearchAttributes(attributes),
                memo=memo,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                static_summary=f"{operation} {subject.name if subject else ''}".strip(),
                execution_timeout=timeouts_for(workflow).execution,
            )
        except WorkflowAlreadyStartedError:
            if not idempotency_key:
                raise
            handle = self.client.get_workflow_handle(job_id)
        self._jobs_changed()
        if self.on_start is not None:
            self.on_start(job_id)
        audit_trail.note(job_id=job_id, resource=subject.key if subject else None)
        status = JobStatus.queued
        # A keyed start may have returned an earlier request's job: its created_at says which.
        fresh = True
        if idempotency_key:
            # A repeated key may have landed on the job an earlier request started: its hash,
            # status and created_at are that job's (a fresh one reads back what was just set).
            description = await handle.describe()
            given = await job_start_of(self.client, description.raw_info.memo.fields)
            if given.request_hash != digest:
                raise ApiError(
                    409,
                    "this Idempotency-Key was already used with a different request",
                    code="idempotency_conflict",
                    details={"job_id": job_id},
                )
            status = (await self._job_from_execution(description)).status
            fresh = _created_at(description) == created_at
            created_at = _created_at(description)
        if fresh and self.on_started is not None:
            self.on_started(operation)
        return JobResponse(
            job_id=job_id,
            status=status,
            operation=operation,
            service_name=known.get(SERVICE_LABEL),
            created_at=created_at,
            estimated_time=await self.estimated_time(operation, estimated_time),
            job_url=self.job_url(job_id),
            logs_url=self.logs_url(job_id),
            temporal_ui_url=self.ui_url(job_id),
        )

    async def estimated_time(self, operation: str, fallback: str | None) -> str | None:
        """The median duration of the operation's recent completed jobs (what this platform, with
        its outside APIs, actually takes), re-measured at most once a minute; `fallback` until one
        has completed. One measurement at a time per operation: the first request waits for it,
        later ones answer the last value while a stale one is re-measured in the background (a
        visibility query with a WHERE clause scans on SQLite: fifty of them at once, at every
        expiry, were the start path's worst tail)."""
        cached = self._estimates.get(operation)
        if cached is None:
            estimate = await asyncio.shield(self._measuring(operation))
        else:
            measured_at, estimate = cached
            if time.monotonic() - measured_at >= _ESTIMATE_TTL_SECONDS:
                self._measuring(operation)
        return estimate or fallback

    def _measuring(self, operation: str) -> asyncio.Task[str | None]:
        task = self._measurements.get(operation)
        if task is None:
            task = asyncio.create_task(self._measure(operation))
            self._measurements[operation] = task
            task.add_done_callback(lambda _: self._measurements.pop(operation, None))
        return task

    async def _measure(self, operation: str) -> str | None:
        query = f"{sa.OPERATION.name} = {_quote(operation)} AND ExecutionStatus = 'Completed'"
        try:
            durations = [
                (execution.close_time - execution.start_time).total_seconds()
                async for execution in self.client.list_workflows(
                    query, limit=_ESTIMATE_SAMPLE, page_size=_ESTIMATE_SAMPLE
                )
                if execution.close_time and execution.start_time
            ]
        except Exception as error:  # an estimate never fails a start: keep what was known
            log.warning("job estimate failed", operation=operation, error_type=type(error).__name__)
            return (self._estimates.get(operation) or (0.0, None))[1]
        estimate = _duration_words(statistics.median(durations)) if durations else None
        self._estimates[operation] = (time.monotonic(), estimate)
        return estimate

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
        """The workflow's own view (progress, logs); None when it cannot be had right now, for
        whatever reason: no worker (timeout), a query the worker failed, an answer that does not
        decode. The caller then reads the memo instead. (A finished job is mostly not asked at
        all: its final memo tells its state, see `finished_state`.)"""
        try:
            return await self.client.get_workflow_handle(job_id).query(
                JOB_STATE_QUERY, result_type=JobState, rpc_timeout=_QUERY_TIMEOUT
            )
        except Exception as error:  # any failure of the live read falls back to the memo
            log.warning("job state query failed", job_id=job_id, error_type=type(error).__name__)
            return None

    async def _state_of(
        self, description: WorkflowExecutionDescription, memo: JobSummaryMemo, ask_workflow: bool
    ) -> JobState | None:
        finished = None if ask_workflow else finished_state(description, memo)
        return finished or await self.state(description.id)

    async def get(
        self, job_id: str, principal: Principal | None = None, *, ask_workflow: bool = False
    ) -> tuple[Job, JobState | None]:
        """The job as its workflow (or memo) tells it, plus what only the history knows: the root
        cause's attempts and failure event, and when a cancel of a running job was requested.
        Those cost a history read, made only when they are needed. A finished job is read from its
        final memo (`finished_state`); `ask_workflow` queries it all the same, as every read did
        before (what tests compare the memo's answer with)."""
        description = await self.describe(job_id)
        memo = await _memo(description)
        state = await self._state_of(description, memo, ask_workflow)
        summary = state or memo
        cause = summary.root_cause
        extended = description.raw_description.workflow_extended_info
        # The history's time, not the workflow's: the workflow sees the cancel only once its
        # running step has stopped, and the force-cancel cool-off counts from the request.
        want_cancel = description.status == Status.RUNNING and extended.cancel_requested
        want_cause = cause is not None and cause.attempts is None and bool(cause.started_event_id)
        if want_cancel or want_cause:
            summary.cancel_requested_at = (
                await history.read_back(
                    self.client,
                    job_id,
                    description.run_id,
                    cause if want_cause else None,
                    want_cancel=want_cancel,
                )
                or summary.cancel_requested_at
            )
        job = await self._job_from_execution(description, state, principal, memo)
        if description.status == Status.TERMINATED:
            await self._explain_termination(job, description.run_id)
        if job.status in (JobStatus.failed, JobStatus.cancelled):
            job.retried_by = await self._retries_of(job_id)
        return job, state

    async def _explain_termination(self, job: Job, run_id: str | None) -> None:
        """A terminated job's error is its terminate's reason (a force-cancel names who and when);
        a force-cancelled one shows its cleanup job, whose alert is the job's too."""
        reason = await history.termination_reason(self.client, job.job_id, run_id)
        if reason:
            job.error = reason if reason.startswith(FORCE_CANCELLED) else f"terminated: {reason}"
        job.cleanup = await self._cleanup_of(job.job_id)
        if job.cleanup is not None:
            job.current_phase = FORCE_CANCELLED
            job.alert = job.alert or job.cleanup.alert

    async def _cleanup_of(self, job_id: str) -> JobCleanup | None:
        cleanup_id = cleanup_job_id(job_id)
        try:
            description = await self.client.get_workflow_handle(cleanup_id).describe()
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return None
            raise
        cleanup = await self._job_from_execution(description)
        removed = (cleanup.result or {}).get("removed") or []
        return JobCleanup(
            job_id=cleanup_id,
            job_url=f"{self.settings.public_api_url.rstrip('/')}/api/v1/jobs/{cleanup_id}",
            temporal_ui_url=cleanup.temporal_ui_url,
            status=cleanup.status,
            removed=[str(what) for what in removed],
            steps=cleanup.compensation,
            error=cleanup.error if cleanup.status == JobStatus.failed else None,
            alert=cleanup.alert,
        )

    async def _retries_of(self, job_id: str) -> list[str]:
        label = sa.label_values({RETRY_OF_LABEL: job_id})[0]
        query = f"{sa.LABELS.name} = {_quote(label)}"
        return [execution.id async for execution in self.client.list_workflows(query, limit=20)]

    async def logs(self, job_id: str, lines: int, *, ask_workflow: bool = False) -> JobLogs:
        """The job's newest `lines` log lines; read as `get` reads the job."""
        description = await self.describe(job_id)
        memo = await _memo(description)
        state = await self._state_of(description, memo, ask_workflow)
        if state is not None:
            logs, total = state.logs, len(state.logs)
        else:
            logs, total = memo.logs, memo.log_count
        shown = logs[-lines:]
        return JobLogs(
            job_id=job_id, total=total, lines=len(shown), logs=shown, live=state is not None
        )

    async def cancel(self, job_id: str) -> tuple[Job, str]:
        """Requests the cancel; returns the job and what the cancel will do, as the workflow
        declared it (its memo: no query, so it answers even when no worker is up)."""
        description = await self.describe(job_id)
        job = await self._job_from_execution(description)
        if job.status == JobStatus.compensating:
            # Its undo steps are under way; a cancel would interrupt the one running.
            raise compensating_conflict(job_id, "be cancelled")
        if description.status != Status.RUNNING:
            raise ApiError(
                409,
                f"job {job_id} has already ended ({job.status})",
                details={"status": job.status},
            )
        await self.client.get_workflow_handle(job_id).cancel()
        self._jobs_changed()
        return job, (await _memo(description)).cancel_effect

    async def list(
        self,
        *,
        service_name: str | None,
        status: JobStatus | None,
        limit: int,
        page_token: str | None = None,
        principal: Principal | None = None,
        operation: str | None = None,
    ) -> JobList:
        # Every workflow in the platform's namespace is a job, so an unfiltered listing sends no
        # query: on SQLite visibility any WHERE clause scans, ten times slower at 10 000 jobs.
        clauses: list[str] = []
        if service_name:
            label = sa.label_values({SERVICE_LABEL: service_name})[0]
            clauses.append(f"{sa.LABELS.name} = {_quote(label)}")
        if operation:
            clauses.append(f"{sa.OPERATION.name} = {_quote(str(operation))}")
        if status:
            clauses.append(_STATUS_FILTERS[status])
        query = " AND ".join(clauses) or None
        token = self._page_tokens.decode(query, page_token)

        async def page() -> tuple[list[Job], bytes | None]:
            # The raw page, not the SDK's iterator: its WorkflowExecution per entry decodes every
            # search attribute twice (typed and untyped) and every timestamp, 3.5 ms of a 50-job
            # page, the most the API added to a listing (issue 9); this reads only what a Job shows.
            response = await self.client.workflow_service.list_workflow_executions(
                ListWorkflowExecutionsRequest(
                    namespace=self.client.namespace,
                    page_size=limit,
                    next_page_token=token or b"",
                    query=query or "",
                ),
                retry=True,
                timeout=timedelta(seconds=self.settings.temporal_api_timeout_seconds),
            )
            found = await self._jobs_from_infos(list(response.executions), principal)
            return found, response.next_page_token or None

        # Independent visibility reads: the page and the total are fetched at the same time.
        (jobs, next_token), total = await asyncio.gather(page(), self._count(query))
        jobs.sort(key=lambda job: job.created_at or datetime.min.replace(tzinfo=UTC), reverse=True)
        return JobList(
            jobs=jobs,
            total=total,
            next_page_token=self._page_tokens.encode(query, next_token),
        )

    async def _count(self, query: str | None) -> int:
        """The listing's total. Counting is a second visibility read as costly as the page itself
        (on SQLite visibility a count scans): a listing paged or polled reuses a count of the same
        filters made in the last _COUNT_TTL_SECONDS, dropped by every start or cancel through this
        process. A total can so lag by that long what other processes start or finish."""
        cached = self._counts.get(query)
        if cached and time.monotonic() - cached[0] < _COUNT_TTL_SECONDS:
            return cached[1]
        generation = self._count_generation
        counted = (await self.client.count_workflows(query)).count
        if generation == self._count_generation:
            self._counts[query] = (time.monotonic(), counted)
        return counted

    def _jobs_changed(self) -> None:
        self._count_generation += 1
        self._counts.clear()

    async def _jobs_from_infos(
        self, infos: list[WorkflowExecutionInfo], principal: Principal | None = None
    ) -> list[Job]:
        """A listing's page: the memos of all its jobs decrypted in one codec call and parsed
        straight from their JSON into the model, instead of a converter context, a codec call
        and a dict per job."""
        # A job without a memo yet has the memo's defaults; None is one to read alone.
        memos: list[JobSummaryMemo | None] = [_NO_MEMO] * len(infos)
        present = [
            (index, info.memo.fields[JOB_MEMO_KEY])
            for index, info in enumerate(infos)
            if JOB_MEMO_KEY in info.memo.fields
        ]
        codec = self.client.data_converter.payload_codec
        if present:
            payloads = [payload for _index, payload in present]
            try:
                decoded = await codec.decode(payloads) if codec else payloads
            except Exception:  # a memo under another key: each job is decoded (and told) alone
                decoded = [None] * len(payloads)
            for (index, _payload), payload in zip(present, decoded, strict=True):
                memos[index] = _memo_from_json(payload)
        starters = await self._starters(infos, principal)
        jobs = []
        for info, memo, starter in zip(infos, memos, starters, strict=True):
            job_id = info.execution.workflow_id
            if memo is None:
                memo = await self._memo_alone(job_id, info.memo.fields[JOB_MEMO_KEY])
            jobs.append(
                self._job(
                    job_id,
                    Status(info.status) if info.status else None,
                    info.start_time.ToDatetime(tzinfo=UTC),
                    info.close_time.ToDatetime(tzinfo=UTC) if info.HasField("close_time") else None,
                    _listed_attributes(info),
                    memo,
                    principal=principal,
                    run_id=info.execution.run_id,
                    started_by=starter,
                )
            )
        return jobs

    async def _starters(
        self, infos: list[WorkflowExecutionInfo], principal: Principal | None
    ) -> list[str | None]:
        """Who started each ended job, where it decides `can_retry` (a write key that is not an
        admin): one codec call for the page, none for most listings."""
        starters: list[str | None] = [None] * len(infos)
        if principal is None or principal.has("admin") or not principal.has("write"):
            return starters
        wanted = [
            (index, key, info.memo.fields[key])
            for index, info in enumerate(infos)
            if info.status in _ENDED_UNDONE
            for key in [_starter_key(info.memo.fields)]
            if key
        ]
        if not wanted:
            return starters
        try:
            values = await self.client.data_converter.decode([p for _i, _k, p in wanted])
        except Exception as error:  # unreadable: the job offers no fresh retry to this key
            log.warning("job starters unreadable", error_type=type(error).__name__)
            return starters
        for (index, key, _payload), value in zip(wanted, values, strict=True):
            with contextlib.suppress(ValueError):  # a malformed entry: unknown, as unreadable
                starters[index] = JobStart.from_memo({key: value}.get).started_by
        return starters

    async def _memo_alone(self, job_id: str, payload: Payload) -> JobSummaryMemo:
        try:
            [value] = await self.client.data_converter.decode([payload])
            return JobSummaryMemo.model_validate(value or {})
        except Exception as error:  # decoding (InvalidTag, JSON) or validation: unreadable
            log.warning("job memo unreadable", job_id=job_id, error_type=type(error).__name__)
            return JobSummaryMemo(error=UNREADABLE_MEMO)

    async def _job_from_execution(
        self,
        execution: WorkflowExecution,
        state: JobState | None = None,
        principal: Principal | None = None,
        memo: JobSummaryMemo | None = None,
    ) -> Job:
        return self._job(
            execution.id,
            execution.status,
            execution.start_time,
            execution.close_time,
            {pair.key.name: pair.value for pair in execution.typed_search_attributes},
            memo or await _memo(execution),
            state,
            principal,
            execution.run_id,
            await started_by(self.client, execution) if principal is not None else None,
        )

    def _job(
        self,
        job_id: str,
        status: Status | None,
        start_time: datetime,
        close_time: datetime | None,
        attributes: dict[str, Any],
        memo: JobSummaryMemo,
        state: JobState | None = None,
        principal: Principal | None = None,
        run_id: str | None = None,
        started_by: str | None = None,
    ) -> Job:
        phase = attributes.get(sa.JOB_PHASE.name)
        labels = dict(
            value.partition("=")[::2]
            for value in attributes.get(sa.LABELS.name) or []
            if "=" in value
        )
        summary = state or memo
        job_status = _status(status, phase, summary.current_phase)
        error = summary.error
        # The memo's error is the job's as of its last phase change, before it was terminated
        # (GET /jobs/{id} tells the terminate's reason).
        if status == Status.TERMINATED or (status == Status.TIMED_OUT and not error):
            error = f"job {_status_name(status).lower()} by Temporal"
        started_at = summary.started_at
        duration = None
        if close_time:
            duration = round((close_time - (started_at or start_time)).total_seconds(), 3)
        progress = 100 if job_status == JobStatus.completed else summary.progress
        current_phase = summary.current_phase
        if status in (Status.TERMINATED, Status.TIMED_OUT):
            current_phase = "failed"
        return Job(
            job_id=job_id,
            status=job_status,
            operation=attributes.get(sa.OPERATION.name),
            service_name=labels.get(SERVICE_LABEL),
            customer_prefix=labels.get(CUSTOMER_LABEL),
            subject=JobSubject.from_key(attributes.get(sa.SUBJECT.name), validate=False),
            labels=labels,
            progress=progress,
            current_phase=current_phase,
            queued_behind=summary.queued_behind if job_status == JobStatus.queued else [],
            created_at=attributes.get(sa.CREATED_AT.name) or start_time,
            started_at=started_at,
            completed_at=close_time,
            duration=duration,
            result=summary.result,
            error=error,
            logs_url=self.logs_url(job_id),
            temporal_ui_url=self.ui_url(job_id),
            compensation=summary.compensation,
            alert=summary.alert,
            root_cause=self._root_cause(job_id, summary.root_cause, run_id),
            retry_of=labels.get(RETRY_OF_LABEL),
            cancel_requested_at=summary.cancel_requested_at,
            actions=actions_for(
                job_status,
                principal,
                summary.cancel_requested_at,
                self.settings.job_force_cancel_cooloff_seconds,
                started_by,
                fresh_retry=attributes.get(sa.OPERATION.name) not in self.no_fresh_retry,
            ),
            live=state is not None,
        )

    def _root_cause(
        self, job_id: str, cause: RecordedCause | None, run_id: str | None
    ) -> RootCause | None:
        if cause is None:
            return None
        event_id = cause.event_id or cause.scheduled_event_id
        return RootCause(
            step=cause.step,
            message=cause.message,
            attempts=cause.attempts,
            event_id=event_id,
            temporal_ui_url=self.run_url(job_id, cause.run_id or run_id, event_id),
        )


async def job_start_of(client: Client, memo: Mapping[str, Payload]) -> JobStart:
    """What the job was given at its start, from its raw memo: decodes those entries only (in one
    codec call), not the job's summary beside them."""
    keys = [key for key in (JOB_START_MEMO_KEY, *LEGACY_START_MEMO_KEYS) if key in memo]
    values = await client.data_converter.decode([memo[key] for key in keys]) if keys else []
    return JobStart.from_memo(dict(zip(keys, values, strict=True)).get)


def _starter_key(memo: Mapping[str, Payload]) -> str | None:
    """The memo entry that names who started the job (its JobStart, or the older entry of its own)."""
    for key in (JOB_START_MEMO_KEY, _LEGACY_STARTED_BY):
        if key in memo:
            return key
    return None


async def started_by(client: Client, execution: WorkflowExecution) -> str | None:
    """The id of the API key that started the job; None when unknown (started elsewhere)."""
    try:
        return (await job_start_of(client, execution.raw_info.memo.fields)).started_by
    except Exception:  # an unreadable memo: unknown, which only an admin may act on
        return None


# Ended by the workflow itself: the workflow task that ended it completed, with the memo upsert of
# every change it made. A terminated or timed-out run may have events its last memo never saw (an
# activity's result no workflow task handled), which a query's replay would still read.
_CLOSED_BY_ITS_WORKFLOW = {Status.COMPLETED, Status.FAILED, Status.CANCELED}
# The JobState fields a job's memo keeps; the others (id, operation, subject, labels) are the run's.
_MEMO_STATE_FIELDS = set(JobState.model_fields) & set(JobSummaryMemo.model_fields)


def final_memo_is_whole(execution: WorkflowExecution, memo: JobSummaryMemo) -> bool:
    """Whether the job's memo tells its whole state: its workflow has ended it, the memo is marked
    final, and it holds all the job's log lines (see `finished_state`)."""
    return (
        execution.status in _CLOSED_BY_ITS_WORKFLOW
        and memo.final
        and memo.log_count == len(memo.logs)
    )


def finished_state(execution: WorkflowExecution, memo: JobSummaryMemo) -> JobState | None:
    """The state of a job its workflow has ended, from its memo alone; None when the memo cannot
    tell it all, and only a query can: a running job, a memo not marked final (a job that ended
    before the memo was kept final, or was terminated), or a log longer than the memo keeps.

    Why the memo is enough: from its final phase on, the workflow saves its memo again after every
    change of its state, in the workflow task that makes the change (workflows/tracking.py), so a
    closed run's last memo is the state its `job_state` query would answer. The query would cost
    a replay of the whole history on a worker, paid by every read of a finished job (a completed
    deploy, measured with bench/finished_job_read.py: ~36 ms of the worker's CPU and ~15 ms of
    the dev server's per read, ~4 ms of the API's; from the memo ~2.5 ms of the dev server's and
    of the API's, none of a worker's), and needs a worker up: read this way, a finished job
    answers in full, `live`, with no worker. The id, operation, subject and labels come from the
    run and its search attributes, as for every other read."""
    if not final_memo_is_whole(execution, memo):
        return None
    attributes = execution.typed_search_attributes
    labels = dict(
        value.partition("=")[::2] for value in attributes.get(sa.LABELS) or [] if "=" in value
    )
    return JobState.model_validate(
        {
            **memo.model_dump(include=_MEMO_STATE_FIELDS),
            "job_id": execution.id,
            "operation": attributes.get(sa.OPERATION) or "",
            "subject": JobSubject.from_key(attributes.get(sa.SUBJECT), validate=False),
            "labels": labels,
        }
    )


async def _memo(execution: WorkflowExecution) -> JobSummaryMemo:
    """The job's memo; one that cannot be read (written under another codec key, or by a newer
    shape) makes that one job say so, and never fails a read or a listing of the others."""
    try:
        return JobSummaryMemo.model_validate(
            await execution.memo_value(JOB_MEMO_KEY, default=None) or {}
        )
    except Exception as error:  # decoding (InvalidTag, JSON) or validation: the job is unreadable
        log.warning("job memo unreadable", job_id=execution.id, error_type=type(error).__name__)
        return JobSummaryMemo(error=UNREADABLE_MEMO)


# A job without a memo yet (started, not picked up by a worker): the memo's defaults.
_NO_MEMO = JobSummaryMemo()


_LISTED_KEYWORDS = (sa.OPERATION.name, sa.SUBJECT.name, sa.JOB_PHASE.name, sa.LABELS.name)
_FRACTION_PAST_MICROS = re.compile(r"(\.\d{6})\d+")


def _listed_attributes(info: WorkflowExecutionInfo) -> dict[str, Any]:
    """The search attributes a Job shows, read from their JSON payloads (a value that does not
    read is left out, as the SDK's decoding would fail the whole page on it)."""
    fields = info.search_attributes.indexed_fields
    attributes: dict[str, Any] = {}
    for name in _LISTED_KEYWORDS:
        if name in fields:
            with contextlib.suppress(ValueError):
                attributes[name] = json.loads(fields[name].data)
    if sa.CREATED_AT.name in fields:
        with contextlib.suppress(ValueError, TypeError):
            text = _FRACTION_PAST_MICROS.sub(r"\1", json.loads(fields[sa.CREATED_AT.name].data))
            attributes[sa.CREATED_AT.name] = datetime.fromisoformat(text).astimezone(UTC)
    return attributes


def _memo_from_json(payload: Payload | None) -> JobSummaryMemo | None:
    if payload is None or payload.metadata.get("encoding") != b"json/plain":
        return None
    try:
        return JobSummaryMemo.model_validate_json(payload.data)
    except ValueError:  # left to `_memo`, which logs why the job cannot be read
        return None


def _now() -> datetime:
    # Whole milliseconds: what every visibility store keeps of a Datetime search attribute, so the
    # 202's created_at and every later read of the job are the same instant.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _created_at(execution: WorkflowExecution) -> datetime | None:
    return execution.typed_search_attributes.get(sa.CREATED_AT) or execution.start_time


def _duration_words(seconds: float) -> str:
    if seconds < 90:
        return f"about {max(5, round(seconds / 5) * 5)} seconds"
    return f"about {round(seconds / 60)} minutes"


# A force-cancelled job's phase, and how its terminate's reason begins (api/job_controls.py).
FORCE_CANCELLED = "force-cancelled"

UNREADABLE_MEMO = "this job's state cannot be read with this platform's payload key"


def _status(status: Status | None, phase: str | None, current_phase: str | None) -> JobStatus:
    """From the execution status and the phase search attribute; a running job's own phase says
    when it compensates (jobs started before the attribute said so too)."""
    if status == Status.COMPLETED:
        return JobStatus.completed
    if status == Status.CANCELED:
        return JobStatus.cancelled
    if status in _FAILED_CLOSE:
        return JobStatus.failed
    if COMPENSATING in (phase, current_phase):
        return JobStatus.compensating
    if phase == NEEDS_ATTENTION:
        return JobStatus.needs_attention
    return JobStatus.queued if phase in (None, "queued") else JobStatus.running


def compensating_conflict(job_id: str, action: str) -> ApiError:
    """The one answer for every control a compensating job refuses."""
    return ApiError(
        409,
        f"job {job_id} is compensating: it is undoing what it did and cannot {action} until it "
        "has ended (failed or cancelled, it can then start again as a new job with "
        '{"fresh": true})',
        details={"status": JobStatus.compensating},
    )


def _status_name(status: Status) -> str:
    return WorkflowExecutionStatus.Name(status.value).removeprefix("WORKFLOW_EXECUTION_STATUS_")


def _quote(value: str) -> str:
    if "'" in value or "\\" in value:
        raise ApiError(400, "invalid filter value", details={"value": value})
    return f"'{value}'"


def step_retry_from(settings: Settings, max_window_seconds: float | None = None) -> StepRetry:
    """The steps' retry window and intervals from settings, for every job the platform starts
    (by the API, or by one of its schedules); `max_window_seconds` caps the window."""
    window = settings.step_retry_minutes * 60
    if max_window_seconds is not None:
        window = min(window, max_window_seconds)
    return StepRetry(
        window_seconds=window,
        initial_interval_seconds=settings.step_retry_initial_seconds,
        maximum_interval_seconds=settings.step_retry_max_interval_seconds,
        heartbeat_seconds=settings.step_heartbeat_seconds,
    )
