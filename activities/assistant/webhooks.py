"""One attempt of a webhook delivery: the event signed with the webhook's secret (read from Secret
Manager by name, never passed through Temporal) and POSTed through the outbound guard; the attempt
is recorded whatever it answers. Idempotent: an attempt is recorded once per (delivery, attempt),
and a receiver gets the same delivery id on every attempt, so it can drop a repeat."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time

import structlog
from temporalio import activity

from contracts.assistant.names import WebhookSteps
from contracts.assistant.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    AttemptOutcome,
    AttemptRequest,
)
from core.settings import Settings
from providers import outbound_http
from providers.google.secret_manager import SecretStore
from store.assistant import webhooks
from store.assistant.models import Webhook
from store.db import Database

log = structlog.get_logger(__name__)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed by the secret>`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class WebhookActivities:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db

    def all(self) -> list:
        return [self.attempt]

    @activity.defn(name=WebhookSteps.ATTEMPT)
    async def attempt(self, request: AttemptRequest) -> AttemptOutcome:
        async with self.db.transaction() as session:
            hook = await session.get(Webhook, request.webhook_id)
            url, secret_name = (hook.url, hook.secret_name) if hook is not None else ("", "")
        if hook is None:
            return AttemptOutcome(outcome="gone", error="the webhook was deleted")
        secret = await asyncio.to_thread(SecretStore(self.settings).access, secret_name)
        event = request.event
        body = json.dumps(
            {
                "id": event.id,
                "type": event.type,
                "created_at": event.created_at,
                "data": event.data,
            },
            separators=(",", ":"),
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "ConneSkills-Webhooks/1",
            SIGNATURE_HEADER: signature(secret, int(time.time()), body),
            DELIVERY_HEADER: request.delivery_id,
            EVENT_HEADER: event.type,
        }
        started = time.monotonic()
        try:
            answer = await outbound_http.call(
                self.settings, "POST", url, headers=headers, content=body
            )
        except outbound_http.Refused as error:
            outcome = AttemptOutcome(outcome="refused", error=str(error)[:500])
        except outbound_http.CallFailed as error:
            outcome = AttemptOutcome(outcome="failed", error=str(error)[:500])
        else:
            ok = 200 <= answer.status < 300
            outcome = AttemptOutcome(
                outcome="delivered" if ok else "failed",
                status_code=answer.status,
                error=None if ok else f"the receiver answered {answer.status}",
            )
        async with self.db.transaction() as session:
            await webhooks.record_attempt(
                session,
                {
                    "webhook_id": request.webhook_id,
                    "delivery_id": request.delivery_id,
                    "event": event.type,
                    "event_id": event.id,
                    "attempt": request.attempt,
                    "outcome": outcome.outcome,
                    "status_code": outcome.status_code,
                    "error": outcome.error,
                    "duration_ms": int((time.monotonic() - started) * 1000),
                },
            )
        log.info(
            "webhook attempt",
            webhook_id=request.webhook_id,
            attempt=request.attempt,
            outcome=outcome.outcome,
            status_code=outcome.status_code,
        )
        return outcome
