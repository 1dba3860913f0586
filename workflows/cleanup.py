"""CleanupAfterTerminate: after a force-cancel, runs every system's cleanup step for the terminated
job's id. A step that fails does not stop the others; the job then fails with the alert label, as
a failed compensation does."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.job_cleanup import (
        CLEANUP_OF_LABEL,
        CLEANUP_OPERATION,
        CLEANUP_WORKFLOW,
        JobCleanupInput,
        JobCleanupResult,
    )
    from contracts.jobs import ALERT_LABEL, COMPENSATION_FAILED, CompensationEntry

from workflows.job import TrackedJob
from workflows.resource_lock import SubjectTurn
from workflows.saga import failure_message
from workflows.steps import step
from workflows.tracking import JobTracker

# One system's cleanup: listing and deleting what carries the job's id (a Cloud Run delete is a
# long-running operation of minutes).
_CLEANUP_STEP = timedelta(minutes=10)
# Cleanups recorded before they took the subject's turn replay without it.
CLEANUP_TURN_PATCH = "cleanup-takes-the-subjects-turn"


@workflow.defn(name=CLEANUP_WORKFLOW)
class CleanupAfterTerminate(TrackedJob):
    @workflow.init
    def __init__(self, inp: JobCleanupInput) -> None:
        # The terminated job's subject: its turn is handed over to this job (the API does it before
        # the terminate), so the next job queued on it waits for the cleanup.
        self.tracker = JobTracker(CLEANUP_OPERATION, inp.subject, {CLEANUP_OF_LABEL: inp.job_id})

    @workflow.run
    async def run(self, inp: JobCleanupInput) -> dict[str, Any]:
        if inp.subject is not None and workflow.patched(CLEANUP_TURN_PATCH):
            self._turn = SubjectTurn(self.tracker, inp.subject)
            await self._turn.wait()
        try:
            return await self._clean_up(inp)
        finally:
            # Also when a step failed: what is left is reported and alerted, not retried here.
            if self._turn is not None:
                await self._turn.give_back()

    async def _clean_up(self, inp: JobCleanupInput) -> dict[str, Any]:
        track = self.tracker
        removed: list[str] = []
        # The job's own first: a system's step for it may look across what its children made (an
        # onboarding's branches) and needs to find it there; then each child's.
        owners = [inp.job_id, *inp.child_job_ids]
        runs = [(owner, name) for owner in owners for name in inp.steps]
        for index, (owner, name) in enumerate(runs):
            track.phase(name, 10 + 80 * index // max(1, len(runs)), f"running {name} for {owner}")
            owned = JobCleanupInput(job_id=owner, steps=inp.steps)
            try:
                result = await step(
                    name,
                    owned,
                    JobCleanupResult,
                    start_to_close=_CLEANUP_STEP,
                    task_queue=inp.step_queues.get(name),
                )
            except (ActivityError, ApplicationError) as error:
                track.state.compensation.append(
                    CompensationEntry(
                        step=f"{name} ({owner})", status="failed", error=failure_message(error)
                    )
                )
                track.log(f"{name} for {owner} failed: {failure_message(error)}")
                continue
            track.state.compensation.append(
                CompensationEntry(step=f"{name} ({owner})", status="ok")
            )
            removed += result.removed
            for what in result.removed:
                track.log(f"removed {what}")
        failed = [entry for entry in track.state.compensation if entry.status == "failed"]
        if failed:
            track.state.alert = COMPENSATION_FAILED
            # What it did remove stays on record (the force-cancelled job shows it), and the error
            # names what could not be removed.
            track.state.result = {"job_id": inp.job_id, "removed": removed}
            track.label(ALERT_LABEL, COMPENSATION_FAILED, "ALERT: a cleanup step failed")
            track.fail(
                f"cleanup after {inp.job_id} left something behind: "
                + "; ".join(f"{entry.step}: {entry.error}" for entry in failed)
            )
            raise ApplicationError("a cleanup step failed", type="JobFailed", non_retryable=True)
        return track.complete(
            {"job_id": inp.job_id, "removed": removed},
            f"cleaned up after {inp.job_id}: {len(removed)} removed",
        )
