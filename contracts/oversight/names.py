"""Names of the oversight system (the JobReaper schedule, its alerts) that cross the Temporal
boundary. Histories hold these values: never change one without a patch."""

from __future__ import annotations

from datetime import timedelta

from contracts.timeouts import JobTimeouts


class Operations:
    JOB_REAPER = "job_reaper"


class Workflows:
    JOB_REAPER = "JobReaper"


class ReaperSteps:
    RAISE_OVERDUE = "oversight.raise_overdue"
    RAISE_FAILED_COMPENSATIONS = "oversight.raise_failed_compensations"
    RESOLVE_ENDED = "oversight.resolve_ended"
    PRUNE_AUDIT = "oversight.prune_audit"
    PRUNE_JOB_LOGS = "oversight.prune_job_logs"


# workflow.patched() id of the step that prunes the recorded job log lines (added after runs of the
# reaper without it were recorded).
PRUNE_JOB_LOGS_PATCH = "prune-job-logs"


TIMEOUTS = {Workflows.JOB_REAPER: JobTimeouts(expected=timedelta(minutes=5))}

REAPER_SCHEDULE_ID = "job-reaper"
