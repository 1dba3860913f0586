"""Newly raised alerts as webhook events, for the activities that raise alerts (the JobReaper's
sweeps, the drift observer's looks): each is published once the transaction that raised it has
committed (a rolled-back alert is never announced), with an id derived from the alert's own key
(kind and job id, or the drift's key), so publishing the same alert twice delivers it once
(temporal/events.py). An alert is marked announced once published; one whose activity failed in
between is published by the next attempt, sweep or observation that sees it still open.

Who receives them: alerts are the platform operators' business, so their events carry no `owner`
(`alert.*` is not in OWNED_EVENTS) and go to every webhook subscribed to them, as the alerts list
(`GET /api/v1/alerts`, any `read` key) shows every alert. That is a decision, not an accident: a
webhook's owner is an operator (a console user, `user:<name>`, or an API key with the `assistant`
scope, `key:<id>`), never a tenant (a customer prefix, a hosting user, a runners repository), and
no tenant can register a webhook, so no tenant's subscriber could receive another tenant's drift.
Scoping by tenant would need webhooks owned by tenants first; the event names the resource's
tenant (`tenant`) so an operator's receiver can route it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from temporalio.client import Client

from contracts.assistant.webhooks import Event
from contracts.oversight.reaper import AlertKind
from core.settings import Settings
from store.db import Database
from store.oversight import alerts
from store.oversight.resource_states import RaisedDrift
from temporal import events
from temporal.client import connect

# A drift event lists this many entries at most (`drift_count` says how many there were), each
# value cut to this length: a delivery's body stays well under MAX_PAYLOAD.
MAX_DRIFT_ENTRIES = 20
MAX_VALUE_CHARS = 200


class AlertEvents:
    """One per system's activities, shared by all of them: it connects to Temporal lazily (only
    when some webhook receives an event, and once per worker process)."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self._client: Client | None = None

    async def client(self) -> Client:
        if self._client is None:
            self._client = await connect(self.settings)
        return self._client

    async def job_alerts(self, drafts: Iterable[dict[str, Any]]) -> None:
        """The reaper's: a failed compensation is critical (something may be left behind), an
        overdue job a warning."""
        for draft in drafts:
            critical = draft["kind"] == AlertKind.compensation_failed.value
            await self._publish(
                "alert.critical" if critical else "alert.warning",
                draft["kind"],
                draft["job_id"],
                {"kind": draft["kind"], "job_id": draft["job_id"], "message": draft["message"]},
            )

    async def drift(self, raised: RaisedDrift) -> None:
        """A warning: the resource still runs, only not as the platform applied it. The entries
        are the drift as the observer recorded it: secret references by name only (`secrets.X`:
        `secret:version`), never a secret's value."""
        await self._publish(
            "alert.warning",
            AlertKind.resource_drifted.value,
            raised.key,
            {
                "kind": AlertKind.resource_drifted.value,
                "resource": raised.resource,
                "tenant": raised.tenant,
                "alert_key": raised.key,
                "message": raised.message,
                "drift": [_entry(e) for e in raised.drift[:MAX_DRIFT_ENTRIES]],
                "drift_count": len(raised.drift),
            },
        )

    async def _publish(self, type_: str, kind: str, key: str, data: dict[str, Any]) -> None:
        """Then marks the alert announced: an attempt that fails before that leaves it to the next
        sweep or observation that sees it (`alerts.unannounced`), whose publishing of the same
        event id starts no second delivery."""
        event = Event(id=f"alert:{kind}:{key}", type=type_, created_at=events.now_text(), data=data)
        await events.publish(self.client, self.db, self.settings, event)
        async with self.db.transaction() as session:
            await alerts.announced(session, kind, [key], datetime.now(UTC))


def _entry(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "field": entry.get("field"),
        "applied": _cut(entry.get("applied")),
        "live": _cut(entry.get("live")),
    }


def _cut(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        return value[:MAX_VALUE_CHARS] + "…"
    if isinstance(value, dict | list):
        text = str(value)
        return text[:MAX_VALUE_CHARS] + "…" if len(text) > MAX_VALUE_CHARS else value
    return value
