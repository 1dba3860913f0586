"""Webhooks as stored: each its owner's, found by the events they subscribe to; and the attempts
of their deliveries, one row per (delivery, attempt), so a retried write writes once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from store.assistant.models import Webhook, WebhookAttempt


async def add(session: AsyncSession, row: Webhook) -> None:
    session.add(row)
    await session.flush()


async def listed(session: AsyncSession, owner: str) -> list[Webhook]:
    query = select(Webhook).where(Webhook.owner == owner).order_by(Webhook.created_at.desc())
    return list((await session.scalars(query)).all())


async def owned(session: AsyncSession, owner: str, webhook_id: str) -> Webhook | None:
    row = await session.get(Webhook, webhook_id)
    return row if row is not None and row.owner == owner else None


async def subscribed(session: AsyncSession, event: str, owner: str | None) -> list[Webhook]:
    """The webhooks that receive `event`: of `owner` only when one is given. Events are few per
    webhook, so they are matched here rather than in a JSON query each database spells apart."""
    query = select(Webhook).order_by(Webhook.id)
    if owner is not None:
        query = query.where(Webhook.owner == owner)
    return [row for row in await session.scalars(query) if event in (row.events or [])]


async def record_attempt(session: AsyncSession, values: dict[str, Any]) -> None:
    """Once per (delivery, attempt): a retried activity finds its row already there."""
    known = select(WebhookAttempt.id).where(
        WebhookAttempt.delivery_id == values["delivery_id"],
        WebhookAttempt.attempt == values["attempt"],
    )
    if await session.scalar(known) is not None:
        return
    try:
        async with session.begin_nested():
            session.add(WebhookAttempt(**values))
    except IntegrityError:
        pass


async def attempts(session: AsyncSession, webhook_id: str, limit: int) -> list[WebhookAttempt]:
    query = (
        select(WebhookAttempt)
        .where(WebhookAttempt.webhook_id == webhook_id)
        .order_by(WebhookAttempt.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())
