"""Operator controls of a job (issue 10): retry or roll back a held job, start a failed one afresh,
and force-cancel (terminate, then a cleanup job) one that a graceful cancel did not stop."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryRequest
from temporalio.client import (
    WorkflowExecutionDescription,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.client import WorkflowExecutionStatus as Status
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api import job_history as history
from api.auth import Principal
from api.errors import ApiError
from api.job_actions import force_cancel_allowed_at
from api.job_engine import FORCE_CANCELLED, JobEngine, compensating_conflict, job_start_of
from api.schemas.jobs import JobControlResponse, JobStatus
from contracts.job_cleanup import (
    CLEANUP_OF_LABEL,
    CLEANUP_OPERATION,
    CLEANUP_WORKFLOW,
    JobCleanupInput,
    cleanup_job_id,
)
from contracts.jobs import (
    ALERT_LABEL,
    RETRY_OF_LABEL,
    RETRY_UPDATE,
    ROLLBACK_UPDATE,
    FailurePolicy,
    JobControl,
    JobSubject,
)
from contracts.resource_lock import HAND_OVER_UPDATE, HandOver, lock_id
from temporal import search_attributes as sa

log = structlog.get_logger(__name__)
_UPDATE_TIMEOUT = timedelta(seconds=10)


async def retry(
    jobs: JobEngine, job_id: str, caller: Principal, *, fresh: bool, comment: str | None
) -> JobControlResponse:
    job, _state = await jobs.get(job_id, caller)
    if job.status == JobStatus.compensating:
        raise compensating_conflict(job_id, "retry (its step, or afresh)")
    if job.status == JobStatus.needs_attention and not fresh:
        await _update(jobs, job_id, RETRY_UPDATE, comment)
        return JobControlResponse(
            job_id=job_id, status="running", message="the failed step runs again"
        )
    if job.status in (JobStatus.failed, JobStatus.cancelled):
        refusal = jobs.no_fresh_retry.get(job.operation or "")
        if refusal is not None:
            # Checked before `fresh` and the caller: no retry of any kind can help.
            raise ApiError(
                409,
                f"job {job_id} has ended ({job.status}) and cannot be started again: {refusal}",
                details={"status": job.status, "operation": job.operation},
            )
        if not fresh:
            raise ApiError(
                409,
                f"job {job_id} has ended ({job.status}) and what it did was undone: there is no "
                'step left to retry. Send {"fresh": true} to start it again as a new job.',
                details={"status": job.status},
            )
        if not job.actions.can_retry:
            raise ApiError(
                403,
                "a fresh retry runs the job again with the authorization its start was given: "
                "only the API key that started it or an admin may ask for one",
                details={"job_id": job_id},
            )
        new_id = await _start_again(jobs, job_id, caller)
        return JobControlResponse(
            job_id=job_id,
            status="retried",
            message=f"started again as job {new_id}",
            new_job_id=new_id,
        )
    if fresh:
        raise ApiError(
            409,
            f"job {job_id} is {job.status}: a fresh retry is for a job that failed or was "
            "cancelled",
            details={"status": job.status},
        )
    raise ApiError(
        409,
        f"job {job_id} is {job.status}: only a job in needs_attention (held after a step failed, "
        "started with X-Job-On-Failure: hold) can retry its step",
        details={"status": job.status},
    )


async def rollback(jobs: JobEngine, job_id: str, comment: str | None) -> JobControlResponse:
    job, _state = await jobs.get(job_id)
    if job.status == JobStatus.compensating:
        raise compensating_conflict(job_id, "roll back again")
    if job.status != JobStatus.needs_attention:
        raise ApiError(
            409,
            f"job {job_id} is {job.status}: only a job in needs_attention can be rolled back "
            "(a running one is stopped and undone by cancel)",
            details={"status": job.status},
        )
    await _update(jobs, job_id, ROLLBACK_UPDATE, comment)
    return JobControlResponse(
        job_id=job_id, status="compensating", message="the job rolls back what it did"
    )


async def force_cancel(
    jobs: JobEngine, job_id: str, caller: Principal, comment: str | None
) -> JobControlResponse:
    description = await jobs.describe(job_id)
    if description.status == Status.TERMINATED and not await jobs.exists(cleanup_job_id(job_id)):
        # Terminated, by an earlier force-cancel whose cleanup did not start (the API went away
        # in between) or by hand: the cleanup is what is left to do.
        return await _clean_up_after(jobs, description, caller, "was already terminated")
    if description.status != Status.RUNNING:
        raise ApiError(409, f"job {job_id} has already ended", details={"job_id": job_id})
    if not description.raw_description.workflow_extended_info.cancel_requested:
        raise ApiError(
            409,
            f"cancel job {job_id} first (POST /api/v1/jobs/{job_id}/cancel): force-cancel is for "
            "a job the graceful cancel did not stop",
            details={"job_id": job_id},
        )
    requested_at = await history.read_back(
        jobs.client, job_id, description.run_id, None, want_cancel=True
    )
    cooloff = jobs.settings.job_force_cancel_cooloff_seconds
    # A request the history does not show (yet) counts from now: never early.
    allowed_at = force_cancel_allowed_at(requested_at or datetime.now(UTC), cooloff)
    if datetime.now(UTC) < allowed_at:
        raise ApiError(
            409,
            f"force-cancel is allowed {cooloff:g} s after the cancel was requested, from "
            f"{allowed_at.isoformat()}",
            details={
                "allowed_at": allowed_at.isoformat(),
                "cancel_requested_at": requested_at.isoformat() if requested_at else None,
            },
        )
    # The job's error from now on (GET /jobs/{id} reads it back from the history).
    reason = (
        f"{FORCE_CANCELLED} by API key {caller.name!r} ({caller.key_id}) after a cancel requested "
        f"at {(requested_at or datetime.now(UTC)).isoformat(timespec='seconds')}"
        + (f": {comment}" if comment else "")
    )
    return await _clean_up_after(jobs, description, caller, "terminated", terminate=reason)


async def _clean_up_after(
    jobs: JobEngine,
    description: WorkflowExecutionDescription,
    caller: Principal,
    what: str,
    terminate: str | None = None,
) -> JobControlResponse:
    """Starts the cleanup job, hands it the terminated job's turn on its subject, then (when
    `terminate` gives the reason) terminates the job: in this order, so the lock never sees the
    job gone before its successor is known, and no job queued on the subject runs before the
    cleanup has ended. The children are read before the terminate: a job stuck in its
    compensation for the whole cool-off starts none in between."""
    job_id = description.id
    subject = JobSubject.from_key(description.typed_search_attributes.get(sa.SUBJECT))
    children = await history.child_job_ids(jobs.client, job_id, None)
    cleanup = await jobs.start(
        CLEANUP_WORKFLOW,
        JobCleanupInput(
            job_id=job_id,
            child_job_ids=children,
            steps=jobs.cleanup_steps,
            subject=subject,
            step_queues=jobs.cleanup_queues,
        ),
        operation=CLEANUP_OPERATION,
        subject=subject,
        caller=caller,
        labels={CLEANUP_OF_LABEL: job_id},
        idempotency_key=None,
        body=None,
        job_id=cleanup_job_id(job_id),
    )
    if subject is not None:
        await _hand_over_turn(jobs, subject, job_id, cleanup.job_id)
    if terminate is not None:
        handle = jobs.client.get_workflow_handle(job_id, run_id=description.run_id)
        try:
            await handle.terminate(reason=terminate)
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            # It ended by itself (its compensation finished) since it was read: nothing is left
            # to clean up, and the cleanup must not touch what it made.
            await _stop_cleanup(jobs, cleanup.job_id)
            raise ApiError(
                409, f"job {job_id} has already ended", details={"job_id": job_id}
            ) from None
    log.info("job force-cancelled", job_id=job_id, cleanup_job_id=cleanup.job_id)
    return JobControlResponse(
        job_id=job_id,
        status="terminated",
        message=f"{what}; cleanup job {cleanup.job_id} removes what it owned",
        cleanup_job_id=cleanup.job_id,
    )


async def _hand_over_turn(
    jobs: JobEngine, subject: JobSubject, job_id: str, successor: str
) -> None:
    """The job's turn goes to its cleanup when it ends. No lock running (the job never took a turn,
    or the lock already dropped it): the cleanup asks for a turn like any job."""
    lock = jobs.client.get_workflow_handle(lock_id(subject.key))
    try:
        await lock.execute_update(
            HAND_OVER_UPDATE,
            HandOver(job_id=job_id, successor=successor),
            result_type=bool,
            rpc_timeout=_UPDATE_TIMEOUT,
        )
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise


async def _stop_cleanup(jobs: JobEngine, cleanup_id: str) -> None:
    try:
        await jobs.client.get_workflow_handle(cleanup_id).terminate(
            reason="the job it was to clean up after ended by itself"
        )
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise


async def _update(jobs: JobEngine, job_id: str, name: str, comment: str | None) -> None:
    handle = jobs.client.get_workflow_handle(job_id)
    try:
        await handle.execute_update(name, JobControl(comment=comment), rpc_timeout=_UPDATE_TIMEOUT)
    except WorkflowUpdateFailedError as error:
        # The validator's refusal: the job left needs_attention since it was read.
        message = getattr(error.cause, "message", None) or str(error.cause or error)
        raise ApiError(409, message, details={"job_id": job_id}) from None
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        raise ApiError(
            503, "no worker answered the job in time; retry later", details={"job_id": job_id}
        ) from None
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise ApiError(409, f"job {job_id} has ended", details={"job_id": job_id}) from None
        raise


async def _start_again(jobs: JobEngine, job_id: str, caller: Principal) -> str:
    """A new job with the old one's workflow type and input (its history's first event), labels
    and failure policy, labelled retry_of=<old id>; the old one lists it in `retried_by`."""
    client = jobs.client
    response = await client.workflow_service.get_workflow_execution_history(
        GetWorkflowExecutionHistoryRequest(
            namespace=client.namespace,
            execution=WorkflowExecution(workflow_id=job_id),
            maximum_page_size=1,
        ),
        retry=True,
    )
    started = response.history.events[0].workflow_execution_started_event_attributes
    args = await client.data_converter.decode(list(started.input.payloads))
    policy = (await job_start_of(client, started.memo.fields)).on_failure or FailurePolicy()
    description = await jobs.describe(job_id)
    attributes = description.typed_search_attributes
    labels: dict[str, Any] = {
        key: value
        for key, _, value in (item.partition("=") for item in attributes.get(sa.LABELS) or [])
        if key not in (ALERT_LABEL, RETRY_OF_LABEL)
    }
    labels[RETRY_OF_LABEL] = job_id
    operation = attributes.get(sa.OPERATION) or job_id.rsplit("-", 1)[0]
    subject = JobSubject.from_key(attributes.get(sa.SUBJECT))
    # One fresh retry per job, whoever asks and however often: the id comes from the old job's
    # (a failed retry is retried afresh in its turn, from its own id).
    new_id = f"{operation}-r{hashlib.sha256(job_id.encode()).hexdigest()[:11]}"
    if await jobs.exists(new_id):
        raise _already_started(job_id, new_id)
    try:
        await jobs.start(
            started.workflow_type.name,
            args[0] if args else {},
            operation=operation,
            subject=subject,
            caller=caller,
            labels=labels,
            idempotency_key=None,
            body=None,
            job_id=new_id,
            on_failure=policy.mode,
        )
    except WorkflowAlreadyStartedError:
        raise _already_started(job_id, new_id) from None
    # Two requests at once both land on the one new job (the start uses the existing run).
    return new_id


def _already_started(job_id: str, new_id: str) -> ApiError:
    return ApiError(
        409,
        f"job {job_id} was already started again as {new_id}",
        details={"job_id": job_id, "new_job_id": new_id},
    )
