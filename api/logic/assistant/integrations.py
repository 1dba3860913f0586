"""Learned APIs and webhooks behind their routers. A URL is checked by the outbound guard before
anything starts (400 naming why); the worker's activities check it again when they call it. A
webhook's secret goes to Secret Manager (`webhook-<id>`), its row keeps only that name; a delivery
is a WebhookDelivery job, started for each event by `temporal/events.py`."""

from __future__ import annotations

import secrets as random_ids

import structlog
from sqlalchemy import func, select

from api.cloud import call_cloud
from api.deps import PlatformState
from api.errors import ApiError, not_found
from api.logic.assistant.auth import Caller
from api.schemas.assistant.integrations import (
    DeliveryAttemptList,
    DeliveryAttemptView,
    LearnApiAccepted,
    LearnApiRequest,
    LearnedApiList,
    LearnedApiView,
    WebhookCreate,
    WebhookList,
    WebhookView,
)
from contracts.assistant.learned import Credentials, LearnInput
from contracts.assistant.names import Operations, Workflows
from contracts.assistant.webhooks import Event
from core.settings import Settings
from providers import outbound_http
from providers.google.secret_manager import SecretStore
from store.assistant import learned, webhooks
from store.assistant.models import Webhook
from store.db import Database
from temporal import events

log = structlog.get_logger(__name__)
# Webhooks one owner may have at most.
MAX_WEBHOOKS = 50


async def checked_url(settings: Settings, url: str, field: str) -> None:
    try:
        await outbound_http.check(settings, url)
    except outbound_http.Refused as error:
        raise ApiError(400, f"{field}: {error}", details={"field": field}) from None


# --- learned APIs ------------------------------------------------------------------------------


async def learn(platform: PlatformState, caller: Caller, body: LearnApiRequest) -> LearnApiAccepted:
    if body.credentials is not None and not caller.principal.has("secrets"):
        raise ApiError(403, "credentials name a secret: that needs the `secrets` scope")
    await checked_url(platform.settings, body.source, "source")
    api_id = "api_" + random_ids.token_hex(8)
    job = await platform.jobs.start(
        Workflows.LEARN_API,
        LearnInput(
            api_id=api_id,
            owner=caller.owner,
            type=body.type,
            source=body.source,
            name=body.name,
            credentials=Credentials(**body.credentials.model_dump()) if body.credentials else None,
        ),
        operation=Operations.LEARN_API,
        subject=None,
        caller=caller.principal,
        idempotency_key=None,
        body=None,
    )
    return LearnApiAccepted(id=api_id, job_id=job.job_id)


async def learned_apis(db: Database, owner: str) -> LearnedApiList:
    async with db.transaction() as session:
        rows = await learned.listed(session, owner)
    return LearnedApiList(
        apis=[
            LearnedApiView(
                id=row.id,
                name=row.name,
                type=row.type,
                source=row.source,
                base_url=row.base_url,
                endpoints=count,
                learned_at=row.learned_at,
            )
            for row, count in rows
        ]
    )


# --- webhooks ----------------------------------------------------------------------------------


def _view(row: Webhook) -> WebhookView:
    return WebhookView(id=row.id, url=row.url, events=row.events, created_at=row.created_at)


async def create_webhook(
    platform: PlatformState, caller: Caller, body: WebhookCreate
) -> WebhookView:
    await checked_url(platform.settings, body.url, "url")
    async with platform.db.transaction() as session:
        count = await session.scalar(
            select(func.count()).select_from(Webhook).where(Webhook.owner == caller.owner)
        )
    if (count or 0) >= MAX_WEBHOOKS:
        raise ApiError(409, f"at most {MAX_WEBHOOKS} webhooks per owner")
    webhook_id = "wh_" + random_ids.token_hex(10)
    secret_name = f"webhook-{webhook_id.replace('_', '-')}"
    store = SecretStore(platform.settings)
    await call_cloud(
        "storing the webhook's secret",
        store.create,
        secret_name,
        body.secret.get_secret_value(),
        {"conneskills-webhook": webhook_id.replace("_", "-")},
    )
    row = Webhook(
        id=webhook_id,
        owner=caller.owner,
        url=body.url,
        events=list(dict.fromkeys(body.events)),
        secret_name=secret_name,
    )
    try:
        async with platform.db.transaction() as session:
            await webhooks.add(session, row)
    except BaseException:
        await call_cloud("removing the webhook's secret", store.delete, secret_name)
        raise
    log.info("webhook created", webhook_id=webhook_id, events=row.events)
    return _view(row)


async def list_webhooks(db: Database, owner: str) -> WebhookList:
    async with db.transaction() as session:
        rows = await webhooks.listed(session, owner)
    return WebhookList(webhooks=[_view(row) for row in rows])


async def delete_webhook(platform: PlatformState, owner: str, webhook_id: str) -> None:
    """The row first (deliveries under way stop at their next attempt), then its secret."""
    async with platform.db.transaction() as session:
        row = await webhooks.owned(session, owner, webhook_id)
        if row is None:
            raise not_found("webhook", id=webhook_id)
        secret_name = row.secret_name
        await session.delete(row)
    await call_cloud(
        "deleting the webhook's secret", SecretStore(platform.settings).delete, secret_name
    )


async def deliveries(db: Database, owner: str, webhook_id: str, limit: int) -> DeliveryAttemptList:
    async with db.transaction() as session:
        if await webhooks.owned(session, owner, webhook_id) is None:
            raise not_found("webhook", id=webhook_id)
        rows = await webhooks.attempts(session, webhook_id, limit)
    return DeliveryAttemptList(
        deliveries=[
            DeliveryAttemptView(
                delivery_id=row.delivery_id,
                event=row.event,
                event_id=row.event_id,
                attempt=row.attempt,
                attempted_at=row.attempted_at,
                outcome=row.outcome,
                status_code=row.status_code,
                error=row.error,
                duration_ms=row.duration_ms,
            )
            for row in rows
        ]
    )


async def conversation_created(platform: PlatformState, owner: str, conversation_id: str) -> None:
    """`conversation.created` to the owner's webhooks. The conversation exists whatever happens
    here: an event that cannot be published (Temporal unreachable) is logged, not answered."""
    event = Event(
        id=f"conversation.created:{conversation_id}",
        type="conversation.created",
        created_at=events.now_text(),
        owner=owner,
        data={"conversation_id": conversation_id},
    )
    try:
        await events.publish(platform.temporal, platform.db, platform.settings, event)
    except Exception as error:
        log.warning("conversation.created not published", error_type=type(error).__name__)
