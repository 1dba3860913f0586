"""What every job workflow shares: the `job_state` query, taking turns with the other jobs on its
subject, and the failure/cancel/compensation ending."""

from __future__ import annotations

import asyncio
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

    from contracts.jobs import (
        ALERT_LABEL,
        COMPENSATING,
        COMPENSATION_FAILED,
        JOB_STATE_QUERY,
        RETRY_UPDATE,
        ROLLBACK_UPDATE,
        JobControl,
        JobState,
    )
    from contracts.resource_lock import SERIALIZED_PATCH, TURN_SIGNAL, Turn

from workflows.hold import FailureHold, root_cause_of
from workflows.job_events import publish_job_event
from workflows.resource_lock import SubjectTurn
from workflows.saga import Saga, failure_message
from workflows.tracking import JobTracker

COMPENSATION_ALERT_PATCH = "compensation-failed-alert"
# A job whose steps run locally gives its turn back and publishes `job.completed` at once, two
# local activities side by side in its last workflow task, instead of one after the other.
LOCAL_ENDING_PATCH = "local-ending-side-by-side"


class TrackedJob:
    """Base for job workflows; subclasses set `self.tracker` in their `@workflow.init`."""

    tracker: JobTracker
    _turn: SubjectTurn | None = None
    # Whether the job publishes its outcome as webhook events (workflows/job_events.py).
    publishes_events: bool = True
    # Set by run_saga; `step()` finds it on the workflow instance (see workflows/hold.py).
    failure_hold: FailureHold | None = None

    @workflow.query(name=JOB_STATE_QUERY)
    def job_state(self) -> JobState:
        return self.tracker.state

    @workflow.signal(name=TURN_SIGNAL)
    def lock_turn(self, turn: Turn) -> None:
        if self._turn is not None:
            self._turn.told(turn)

    @workflow.update(name=RETRY_UPDATE)
    async def retry_held_step(self, control: JobControl) -> str:
        assert self.failure_hold is not None  # the validator let it through
        self.failure_hold.decide("retry", control.comment)
        return "the failed step runs again"

    @retry_held_step.validator
    def _validate_retry(self, _control: JobControl) -> None:
        self._refuse_unless_held("retry")

    @workflow.update(name=ROLLBACK_UPDATE)
    async def rollback_held_job(self, control: JobControl) -> str:
        assert self.failure_hold is not None
        self.failure_hold.decide("rollback", control.comment)
        return "the job rolls back"

    @rollback_held_job.validator
    def _validate_rollback(self, _control: JobControl) -> None:
        self._refuse_unless_held("rollback")

    def _refuse_unless_held(self, action: str) -> None:
        if self.failure_hold is None or not self.failure_hold.held:
            raise ApplicationError(
                f"only a job in needs_attention can {action}; this one is "
                f"{self.tracker.state.current_phase}",
                type="NotHeld",
                non_retryable=True,
            )

    def steps_run_locally(self) -> bool:
        """Whether the job asks for its turn on its subject by a local activity (in its first
        workflow task, no round trip through the task queue), as a job type with short steps that
        runs them locally does. A job type opts in under its own patch, so its runs recorded before
        keep replaying. False by default."""
        return False

    def owned_from_the_start(self, saga: Saga) -> None:
        """Registers the undo of what the job owns before it runs (what the API made for it before
        starting it, such as a record): called before the job asks for its turn, so a job that ends
        undone at any point, also cancelled while it waits, removes it. None by default."""

    async def run_saga(self, body: Callable[[Saga], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        saga = Saga(self.tracker)
        self.failure_hold = FailureHold(self.tracker)
        self.owned_from_the_start(saga)
        subject = self.tracker.state.subject
        if subject is not None and workflow.patched(SERIALIZED_PATCH):
            self._turn = SubjectTurn(self.tracker, subject, local=self.steps_run_locally())
        try:
            if self._turn is not None:
                await self._turn.wait()
            result = await body(saga)
        except BaseException as error:
            if is_cancelled_exception(error) or _ended_by_cancel(error):
                self.tracker.state.cancel_requested_at = workflow.now()
                self.tracker.fail("cancel requested", phase=COMPENSATING)
                problems = await saga.compensate()
                self._report(saga)
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
            if self.tracker.state.root_cause is None:
                self.tracker.state.root_cause = root_cause_of(
                    error, self.tracker.state.current_phase
                )
            self.tracker.fail(message, phase=COMPENSATING)
            problems = await saga.compensate()
            self._report(saga)
            self.tracker.fail("; ".join([message, *problems]))
            await self._give_back_turn()
            if self.tracker.state.alert == COMPENSATION_FAILED:
                await publish_job_event(self.tracker, "job.compensation_failed")
            await publish_job_event(self.tracker, "job.failed")
            raise ApplicationError(message, type="JobFailed", non_retryable=True) from None
        # The same decision as when the job asked for its turn (a patch is decided once a run).
        local = self.steps_run_locally()
        if local and workflow.patched(LOCAL_ENDING_PATCH):
            # Neither waits for the other: the event says the job completed, which it has, whether
            # the lock has heard of it yet or not (the next job in line waits a moment either way).
            await asyncio.gather(
                self._give_back_turn(), publish_job_event(self.tracker, "job.completed", local=True)
            )
            return result
        await self._give_back_turn()
        await publish_job_event(self.tracker, "job.completed", local=local)
        return result

    def _report(self, saga: Saga) -> None:
        """The compensation report goes with the job's final memo; an undo that failed also
        labels the job, which the platform's alerting finds in visibility."""
        state = self.tracker.state
        state.compensation = list(saga.report)
        if any(entry.status == "failed" for entry in saga.report):
            state.alert = COMPENSATION_FAILED
            if workflow.patched(COMPENSATION_ALERT_PATCH):
                self.tracker.label(
                    ALERT_LABEL, COMPENSATION_FAILED, "ALERT: a compensation failed, see the report"
                )

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
