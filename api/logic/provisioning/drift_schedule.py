"""The Temporal Schedule that runs ObserveDrift every `drift_observe_interval_minutes`: each Cloud
Run service the platform applied is compared with what runs now (api/schedules.py creates it when
the API starts; one per platform, `task_queue` prefix)."""

from __future__ import annotations

from api.schedules import PlatformSchedule
from contracts.provisioning.drift import ObserveInput
from contracts.provisioning.names import DRIFT_SCHEDULE_ID, Operations, Workflows
from core.settings import Settings


def drift_schedule(settings: Settings) -> PlatformSchedule:
    return PlatformSchedule(
        what="drift observer",
        base_id=DRIFT_SCHEDULE_ID,
        workflow=Workflows.OBSERVE_DRIFT,
        arg=ObserveInput(),
        operation=Operations.OBSERVE_DRIFT,
        every_minutes=settings.drift_observe_interval_minutes,
        # Reads only: an observation that cannot finish leaves room for the next period's.
        max_retry_window_seconds=120,
    )


def schedule_id(settings: Settings) -> str:
    return drift_schedule(settings).schedule_id(settings)
