"""JobReaper (run by its Schedule every few minutes): raises jobs open past their expected duration
and jobs whose compensation failed as alerts, resolves the overdue alerts of jobs that have ended,
and prunes the audit trail and the recorded job log lines past their retention. The activities do the reading and writing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.oversight.names import (
        PRUNE_JOB_LOGS_PATCH,
        Operations,
        ReaperSteps,
        Workflows,
    )
    from contracts.oversight.reaper import AlertsChanged, PrunedAudit, PrunedJobLogs, ReaperInput

from workflows.job import TrackedJob
from workflows.steps import step
from workflows.tracking import JobTracker

# Visibility listings and the platform's own tables: a sweep of each is seconds.
_SWEEP = timedelta(minutes=2)
_HEARTBEAT = timedelta(seconds=30)


@workflow.defn(name=Workflows.JOB_REAPER)
class JobReaper(TrackedJob):
    # A sweep every few minutes: its alerts are the events (alert.critical, alert.warning).
    publishes_events = False

    @workflow.init
    def __init__(self, inp: ReaperInput) -> None:
        # No subject: it changes no resource, only the platform's alerts and audit tables.
        self.tracker = JobTracker(Operations.JOB_REAPER, None)

    @workflow.run
    async def run(self, inp: ReaperInput) -> dict[str, Any]:
        return await self.run_saga(lambda saga: self._sweep(inp))

    async def _sweep(self, inp: ReaperInput) -> dict[str, Any]:
        track = self.tracker
        track.phase("overdue", 20, "looking for jobs open past their expected duration")
        overdue = await step(
            ReaperSteps.RAISE_OVERDUE,
            inp,
            AlertsChanged,
            start_to_close=_SWEEP,
            heartbeat=_HEARTBEAT,
        )
        track.phase("compensations", 45, "looking for jobs whose compensation failed")
        failed = await step(
            ReaperSteps.RAISE_FAILED_COMPENSATIONS,
            inp,
            AlertsChanged,
            start_to_close=_SWEEP,
            heartbeat=_HEARTBEAT,
        )
        track.phase("resolving", 70, "resolving the overdue alerts of jobs that have ended")
        resolved = await step(
            ReaperSteps.RESOLVE_ENDED,
            inp,
            AlertsChanged,
            start_to_close=_SWEEP,
            heartbeat=_HEARTBEAT,
        )
        track.phase("pruning", 90, "deleting audit rows past their retention")
        pruned = await step(ReaperSteps.PRUNE_AUDIT, inp, PrunedAudit, start_to_close=_SWEEP)
        result = {
            "overdue_raised": overdue.model_dump(),
            "compensation_failed_raised": failed.model_dump(),
            "resolved": resolved.model_dump(),
            "audit_rows_pruned": pruned.deleted,
        }
        summary = (
            f"{overdue.count} overdue and {failed.count} failed-compensation alert(s) raised, "
            f"{resolved.count} resolved, {pruned.deleted} audit row(s) pruned"
        )
        # Runs recorded before this step existed replay without it.
        if workflow.patched(PRUNE_JOB_LOGS_PATCH):
            track.phase("pruning", 95, "deleting job log lines past their retention")
            lines = await step(
                ReaperSteps.PRUNE_JOB_LOGS, inp, PrunedJobLogs, start_to_close=_SWEEP
            )
            result["job_log_lines_pruned"] = lines.deleted
            summary += f", {lines.deleted} job log line(s) pruned"
        return track.complete(result, summary)
