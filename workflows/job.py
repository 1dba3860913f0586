"""What every job workflow shares: the `job_state` query and the failure/cancel/compensation ending."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from temporalio import workflow
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    CancelledError,
    ChildWorkflowError,
    RetryState,
)

with workflow.unsafe.imports_passed_through():
    from temporalio.exceptions import is_cancelled_exception

    from contracts.jobs import JOB_STATE_QUERY, JobState

from workflows.saga import Saga, failure_message
from workflows.tracking import JobTracker


class TrackedJob:
    """Base for job workflows; subclasses set `self.tracker` in their `@workflow.init`."""

    tracker: JobTracker

    @workflow.query(name=JOB_STATE_QUERY)
    def job_state(self) -> JobState:
        return self.tracker.state

    async def run_saga(self, body: Callable[[Saga], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        saga = Saga(self.tracker)
        try:
            return await body(saga)
        except BaseException as error:
            if is_cancelled_exception(error) or _ended_by_cancel(error):
                self.tracker.fail("cancel requested", phase="compensating")
                problems = await saga.compensate()
                self.tracker.fail("; ".join(["cancelled by request", *problems]), phase="cancelled")
                if is_cancelled_exception(error):
                    raise
                raise CancelledError("cancelled by request") from None
            if not isinstance(error, ActivityError | ApplicationError | ChildWorkflowError):
                # A bug in the workflow itself: fail the task so a fixed worker can resume the job.
                raise
            message = failure_message(error)
            self.tracker.fail(message, phase="compensating")
            problems = await saga.compensate()
            self.tracker.fail("; ".join([message, *problems]))
            raise ApplicationError(message, type="JobFailed", non_retryable=True) from None


def _ended_by_cancel(error: BaseException) -> bool:
    """A step whose worker was gone when the cancel came never reports "cancelled": the server
    stops retrying it and it times out (heartbeat) with retry state CANCEL_REQUESTED. That is the
    cancel, not a failure. Old histories ended such jobs failed: the patch keeps them replaying."""
    return (
        isinstance(error, ActivityError)
        and error.retry_state == RetryState.CANCEL_REQUESTED
        and workflow.patched("activity-timeout-after-cancel-is-cancel")
    )
