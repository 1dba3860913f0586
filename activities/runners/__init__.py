"""The runners system's activities (seed 004), collected by `worker.py`."""

from __future__ import annotations

from collections.abc import Callable

from activities.runners.cleanup import CleanupActivities
from activities.runners.containers import RunnerActivities
from activities.runners.job_cleanup import RunnerJobCleanup
from core.settings import Settings
from store.db import Database


def activities(settings: Settings, db: Database) -> list[Callable]:
    return [
        *RunnerActivities(settings, db).all(),
        CleanupActivities(settings, db).cleanup,
        RunnerJobCleanup(settings, db).cleanup_after_terminate,
    ]
