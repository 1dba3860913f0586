"""The ops assistant's activities (seed 002), collected by `worker.py`."""

from __future__ import annotations

from collections.abc import Callable

from activities.assistant.learned import LearnActivities
from activities.assistant.turn import TurnActivities
from activities.assistant.webhooks import WebhookActivities
from core.settings import Settings
from store.db import Database


def activities(settings: Settings, db: Database) -> list[Callable]:
    return [
        *TurnActivities(settings, db).all(),
        *LearnActivities(settings, db).all(),
        *WebhookActivities(settings, db).all(),
    ]
