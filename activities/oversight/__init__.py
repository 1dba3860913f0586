"""The oversight activities (issue 10), collected by `worker.py`."""

from __future__ import annotations

from collections.abc import Callable

from activities.alert_events import AlertEvents
from activities.oversight.reaper import ReaperActivities
from core.settings import Settings
from store.db import Database


def activities(settings: Settings, db: Database) -> list[Callable]:
    return ReaperActivities(settings, db, AlertEvents(settings, db)).all()
