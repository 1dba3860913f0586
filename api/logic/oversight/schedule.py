"""The Temporal Schedule that runs the JobReaper every `job_reaper_interval_minutes`: overdue jobs
and failed compensations become alerts, ended jobs resolve theirs, old audit rows and job log
lines go. One per platform (`task_queue` prefix), since the reaper looks at the jobs of that
platform's queues (api/schedules.py creates it when the API starts)."""

from __future__ import annotations

from api.schedules import PlatformSchedule
from contracts.oversight.names import REAPER_SCHEDULE_ID, Operations, Workflows
from contracts.oversight.reaper import ReaperInput
from core.settings import Settings


def reaper_schedule(settings: Settings) -> PlatformSchedule:
    return PlatformSchedule(
        what="job reaper",
        base_id=REAPER_SCHEDULE_ID,
        workflow=Workflows.JOB_REAPER,
        arg=ReaperInput(),
        operation=Operations.JOB_REAPER,
        every_minutes=settings.job_reaper_interval_minutes,
        # Its steps are reads and writes of the platform's own stores: a short retry window, so
        # a sweep that cannot finish leaves room for the next one (and alerts are never raised
        # twice: one sweep at a time).
        max_retry_window_seconds=120,
    )


def schedule_id(settings: Settings) -> str:
    return reaper_schedule(settings).schedule_id(settings)
