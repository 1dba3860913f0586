"""Webhook events and their durable delivery: the events a webhook may subscribe to, what the
publishing activity and the WebhookDelivery workflow pass. The signing secret never travels here
(the attempt reads it from Secret Manager by the webhook's row)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

# Seed 002's events, and the platform's job outcomes (every system's jobs).
SEED_EVENTS = (
    "alert.critical",
    "alert.warning",
    "tool.executed",
    "conversation.created",
    "api.learned",
)
JOB_EVENTS = ("job.completed", "job.failed", "job.needs_attention", "job.compensation_failed")
EVENTS: tuple[str, ...] = (*SEED_EVENTS, *JOB_EVENTS)
EventName = Literal[EVENTS]  # type: ignore[valid-type]
# Events about one owner's things go to that owner's webhooks only; the others (jobs, alerts,
# learned APIs) to every webhook subscribed to them.
OWNED_EVENTS = frozenset({"tool.executed", "conversation.created"})

SIGNATURE_HEADER = "X-ConneSkills-Signature"
DELIVERY_HEADER = "X-ConneSkills-Delivery"
EVENT_HEADER = "X-ConneSkills-Event"
# A delivery's payload at most (it crosses Temporal and is each attempt's body).
MAX_PAYLOAD = 16_000
# A value kept in a truncated event's data.
_SHORT_VALUE = 200


class Event(BaseModel):
    """One event: `id` makes its deliveries idempotent (publishing it twice delivers it once)."""

    id: str = Field(max_length=300)
    type: EventName
    created_at: str
    data: dict[str, Any] = Field(default_factory=dict)
    # For OWNED_EVENTS: whose webhooks get it.
    owner: str | None = Field(default=None, max_length=200)

    def within_limit(self) -> Event:
        """The event as it is delivered: whole when its JSON fits MAX_PAYLOAD (every event the
        platform makes does), else with `data` cut to its short plain values and
        `"truncated": true`, so a receiver still learns what happened and to what. Checked once,
        where deliveries start, rather than in the model: events are made inside workflows too,
        where a refusal would fail the workflow task instead of shortening one event."""
        if len(self.model_dump_json().encode()) <= MAX_PAYLOAD:
            return self
        short = {
            key: value
            for key, value in self.data.items()
            if value is None
            or isinstance(value, bool | int | float)
            or (isinstance(value, str) and len(value) <= _SHORT_VALUE)
        }
        cut = self.model_copy(update={"data": {**short, "truncated": True}})
        if len(cut.model_dump_json().encode()) <= MAX_PAYLOAD:
            return cut
        return self.model_copy(update={"data": {"truncated": True}})


class Published(BaseModel):
    deliveries: list[str] = Field(default_factory=list)


class DeliveryInput(BaseModel):
    webhook_id: str
    event: Event
    retry_initial_seconds: float = Field(gt=0)
    retry_max_seconds: float = Field(gt=0)
    retry_for_seconds: float = Field(gt=0)


class AttemptRequest(BaseModel):
    delivery_id: str
    webhook_id: str
    attempt: int = Field(ge=1)
    event: Event


class AttemptOutcome(BaseModel):
    # delivered | failed (may be tried again) | gone (the webhook was deleted) | refused (guard)
    outcome: Literal["delivered", "failed", "gone", "refused"]
    status_code: int | None = None
    error: str | None = None


class DeliveryResult(BaseModel):
    delivery_id: str
    status: Literal["delivered", "failed", "gone", "refused"]
    attempts: int
