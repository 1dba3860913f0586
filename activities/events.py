"""The platform's event publishing, served by every worker beside the job activities: starts an
event's webhook deliveries (temporal/events.py). Idempotent: a delivery's workflow id is derived
from the webhook and the event id, so a retry starts nothing twice."""

from __future__ import annotations

from temporalio import activity
from temporalio.client import Client

from contracts.assistant.webhooks import Event, Published
from contracts.events import PUBLISH_EVENT
from core.settings import Settings
from store.db import Database
from temporal import events


class EventActivities:
    def __init__(self, client: Client, settings: Settings, db: Database) -> None:
        self.client = client
        self.settings = settings
        self.db = db

    def all(self) -> list:
        return [self.publish]

    @activity.defn(name=PUBLISH_EVENT)
    async def publish(self, event: Event) -> Published:
        return Published(
            deliveries=await events.publish(self.client, self.db, self.settings, event)
        )
