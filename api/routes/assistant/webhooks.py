"""Webhooks (seed 002): register a URL for events (its secret goes to Secret Manager), list,
delete, and list a webhook's delivery attempts."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, status

from api.deps import DbDep
from api.errors import answers
from api.http import JsonRouter
from api.logic.assistant import integrations as logic
from api.routes.assistant.common import ANSWERS, AssistantCaller, Platform
from api.schemas.assistant.integrations import (
    WEBHOOK_ID_PATTERN,
    DeliveryAttemptList,
    WebhookCreate,
    WebhookList,
    WebhookView,
)

router = JsonRouter(prefix="/api/webhooks", tags=["assistant"], responses=ANSWERS)
WebhookId = Annotated[str, Path(pattern=WEBHOOK_ID_PATTERN)]


@router.get("", response_model=WebhookList)
async def list_webhooks(caller: AssistantCaller, db: DbDep) -> WebhookList:
    return await logic.list_webhooks(db, caller.owner)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookView,
    responses=answers(409, 413, 415, 502, 503),
)
async def create_webhook(
    body: WebhookCreate, caller: AssistantCaller, platform: Platform
) -> WebhookView:
    """Every delivery is signed: `X-ConneSkills-Signature: t=<unix>,v1=<hex HMAC-SHA256 of
    "<t>.<body>">`, with `X-ConneSkills-Delivery` (the same on every attempt) and
    `X-ConneSkills-Event`. 400 for a URL the outbound guard refuses."""
    return await logic.create_webhook(platform, caller, body)


@router.delete(
    "/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT, responses=answers(404, 502, 503)
)
async def delete_webhook(
    webhook_id: WebhookId, caller: AssistantCaller, platform: Platform
) -> None:
    await logic.delete_webhook(platform, caller.owner, webhook_id)


@router.get("/{webhook_id}/deliveries", response_model=DeliveryAttemptList, responses=answers(404))
async def list_deliveries(
    webhook_id: WebhookId,
    caller: AssistantCaller,
    db: DbDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DeliveryAttemptList:
    """Every attempt of the webhook's deliveries, the latest first: its delivery id, event,
    attempt number, outcome (`delivered`, `failed`, `refused`), status code and error."""
    return await logic.deliveries(db, caller.owner, webhook_id, limit)
