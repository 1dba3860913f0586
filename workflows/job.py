"""What every job workflow shares: the `job_state` query, taking turns with the other jobs on its
subject, and the failure/cancel/compensation ending."""

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
    from contracts.resource_lock import SERIALIZED_PATCH, TURN_SIGNAL, Turn

from workflows.resource_lock import SubjectTurn
from workflows.saga import Saga, failure_message
from workflows.tracking import JobTracker


class TrackedJob:
    """Base for job workflows; subclasses set `self.tracker` in their `@workflow.init`."""

    tracker: JobTracker
    _turn: SubjectTurn | None = None

    @workflow.query(name=JOB_STATE_QUERY)
    def job_state(self) -> JobState:
        return self.tracker.state

    @workflow.signal(name=TURN_SIGNAL)
    def lock_turn(self, turn: Turn) -> None:
        if self._turn is not None:
            self._turn.told(turn)

    async def run_saga(self, body: Callable[[Saga], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        saga = Saga(self.tracker)
        subject = self.tracker.state.subject
        if subject is not None and workflow.patched(SERIALIZED_PATCH):
            self._turn = SubjectTurn(self.tracker, subject)
        try:
            if self._turn is not None:
                await self._turn.wait()
            result = await body(saga)
        except BaseException as error:
            if is_cancelled_exception(error) or _ended_by_cancel(error):
                self.tracker.fail("cancel requested", phase="compensating")
                problems = await saga.compensate()
                self.tracker.fail("; ".join(["cancelled by request", *problems]), phase="cancelled")
                await self._give_back_turn()
                if is_cancelled_exception(error):
                    raise
                raise CancelledError("cancelled by request") from None
            if not isinstance(error, ActivityError | ApplicationError | ChildWorkflowError):
                # A bug in the workflow itself: fail the task so a fixed worker can resume the job,
                # which keeps its turn meanwhile.
                raise
            message = failure_message(error)
            self.tracker.fail(message, phase="compensating")
            problems = await saga.compensate()
            self.tracker.fail("; ".join([message, *problems]))
            await self._give_back_turn()
            raise ApplicationError(message, type="JobFailed", non_retryable=True) from None
        await self._give_back_turn()
        return result

    async def _give_back_turn(self) -> None:
        """After the compensation, so the next job in line finds the resource as this one left it."""
        if self._turn is not None:
            await self._turn.give_back()


def _ended_by_cancel(error: BaseException) -> bool:
    """A step whose worker was gone when the cancel came never reports "cancelled": the server
    stops retrying it and it times out (heartbeat) with retry state CANCEL_REQUESTED. That is the
    cancel, not a failure. Old histories ended such jobs failed: the patch keeps them replaying."""
    return (
        isinstance(error, ActivityError)
        and error.retry_state == RetryState.CANCEL_REQUESTED
        and workflow.patched("activity-timeout-after-cancel-is-cancel")
    )
