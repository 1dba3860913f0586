"""Publishing a webhook event: one WebhookDelivery workflow per subscribed webhook, its id (the
delivery id receivers see) derived from the webhook and the event's id, so publishing an event
twice (a retried activity, two API processes) delivers it once. Used by the API (events it sees
first, such as a new conversation) and by the publishing activities (what jobs do)."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import structlog
from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from contracts.assistant.names import DELIVERY_PREFIX, Operations, Workflows
from contracts.assistant.webhooks import OWNED_EVENTS, DeliveryInput, Event
from contracts.task_queues import queue_for_workflow
from contracts.workflow_timeouts import timeouts_for
from core.settings import Settings
from store.assistant import webhooks
from store.db import Database
from temporal import search_attributes as sa

log = structlog.get_logger(__name__)


def delivery_id(webhook_id: str, event_id: str) -> str:
    digest = hashlib.sha256(event_id.encode()).hexdigest()[:24]
    return f"{DELIVERY_PREFIX}{webhook_id}-{digest}"


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


async def publish(
    client: Client | Callable[[], Awaitable[Client]],
    db: Database,
    settings: Settings,
    event: Event,
) -> list[str]:
    """Starts the event's deliveries; answers their ids. `client` may be a function that connects
    (called only when some webhook receives the event)."""
    event = event.within_limit()
    owner = event.owner if event.type in OWNED_EVENTS else None
    async with db.transaction() as session:
        hooks = await webhooks.subscribed(session, event.type, owner)
    if not hooks:
        return []
    if not isinstance(client, Client):
        client = await client()
    started = []
    for hook in hooks:
        workflow_id = delivery_id(hook.id, event.id)
        delivery = DeliveryInput(
            webhook_id=hook.id,
            event=event,
            retry_initial_seconds=settings.webhook_retry_initial_seconds,
            retry_max_seconds=settings.webhook_retry_max_seconds,
            retry_for_seconds=settings.webhook_retry_for_seconds,
        )
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await client.start_workflow(
                Workflows.WEBHOOK_DELIVERY,
                delivery,
                id=workflow_id,
                task_queue=queue_for_workflow(settings.task_queue, Workflows.WEBHOOK_DELIVERY),
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(sa.OPERATION, Operations.WEBHOOK_DELIVERY),
                        SearchAttributePair(sa.CREATED_AT, datetime.now(UTC)),
                    ]
                ),
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                static_summary=f"{event.type} to {hook.id}",
                execution_timeout=timeouts_for(Workflows.WEBHOOK_DELIVERY).execution,
            )
        started.append(workflow_id)
    if started:
        log.info("webhook event published", event_type=event.type, deliveries=len(started))
    return started
