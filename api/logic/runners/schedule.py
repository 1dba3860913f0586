"""The Temporal Schedule that runs RunnerCleanup every `runner_cleanup_interval_minutes`, so orphans
never pile up (api/schedules.py creates it when the API starts)."""

from __future__ import annotations

from api.schedules import PlatformSchedule
from contracts.runners.names import CLEANUP_SCHEDULE_ID, Operations, Workflows
from contracts.runners.runners import CleanupInput
from core.settings import Settings


def cleanup_schedule(settings: Settings) -> PlatformSchedule:
    return PlatformSchedule(
        what="runner cleanup",
        base_id=CLEANUP_SCHEDULE_ID,
        workflow=Workflows.RUNNER_CLEANUP,
        arg=CleanupInput(),
        operation=Operations.RUNNER_CLEANUP,
        every_minutes=settings.runner_cleanup_interval_minutes,
    )


def schedule_id(settings: Settings) -> str:
    return cleanup_schedule(settings).schedule_id(settings)
