"""Holding a job whose step failed for good (`on_failure: hold`): it waits, durably, in phase
`needs_attention` until an operator retries the step or rolls the job back, or the hold times out."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from contracts.jobs import FailurePolicy, RootCause

from workflows.job_events import publish_job_event
from workflows.saga import failure_message
from workflows.steps import job_start
from workflows.tracking import JobTracker

# Only jobs started with `hold` ever reach it, and no recorded history has one; the patch marks
# the histories that do, so a later change of the hold's commands can tell them apart.
HOLD_PATCH = "job-hold-on-failure"


def failure_policy() -> FailurePolicy:
    return job_start().on_failure or FailurePolicy()


def root_cause_of(error: BaseException, step: str) -> RootCause:
    """The failing step and the outside system's error; event ids when an activity failed."""
    cause = RootCause(step=step, message=failure_message(error), run_id=workflow.info().run_id)
    if isinstance(error, ActivityError):
        cause.step = error.activity_type or step
        cause.scheduled_event_id = error.scheduled_event_id or None
        cause.started_event_id = error.started_event_id or None
    return cause


class FailureHold:
    """The one decision an operator makes about a held job; `held` is what the updates'
    validators check, so a `retry` or `rollback` of a job that is not waiting is refused."""

    def __init__(self, tracker: JobTracker) -> None:
        self._tracker = tracker
        self.held = False
        self.holds = 0
        self._decision: Literal["retry", "rollback"] | None = None

    def decide(self, decision: Literal["retry", "rollback"], comment: str | None) -> None:
        self._decision = decision
        self._tracker.log(f"{decision} requested" + (f": {comment}" if comment else ""))

    async def wait(self, step: str, error: ActivityError) -> bool:
        """True: run the step again. False: roll back (the caller raises the failure)."""
        policy = failure_policy()
        if policy.mode != "hold" or not workflow.patched(HOLD_PATCH):
            return False
        tracker = self._tracker
        tracker.state.root_cause = root_cause_of(error, step)
        self.held, self._decision = True, None
        tracker.hold(
            f"step {step} failed: {tracker.state.root_cause.message}; holding for retry or "
            f"rollback (at most {timedelta(seconds=policy.hold_seconds)})"
        )
        self.holds += 1
        await publish_job_event(tracker, "job.needs_attention", f":{self.holds}")
        try:
            await workflow.wait_condition(
                lambda: self._decision is not None,
                timeout=timedelta(seconds=policy.hold_seconds),
                timeout_summary="hold for retry or rollback",
            )
        except TimeoutError:
            self._decision = "rollback"
            tracker.log("nobody retried or rolled back within the hold timeout: rolling back")
        finally:
            self.held = False
        if self._decision == "retry":
            tracker.state.root_cause = None
            tracker.resume(f"retrying step {step}")
            return True
        return False
