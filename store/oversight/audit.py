"""Reading and writing the audit trail: batches in, pages out newest first, old rows pruned."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.oversight.models import AuditEvent


async def insert_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        # Core's executemany, not the ORM's bulk path: a batch costs one statement's overhead.
        await session.execute(insert(AuditEvent.__table__), rows)


async def page(
    session: AsyncSession,
    *,
    actor: str | None,
    resource: str | None,
    since: datetime | None,
    until: datetime | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[AuditEvent]:
    """Newest first; `after` is the (occurred_at, id) of the last row of the previous page, so a
    page never shifts when calls are recorded meanwhile. `resource` matches exactly or as a prefix
    ending before a `/` or `:` (`jobs` matches `jobs/deploy-1`)."""
    query = select(AuditEvent)
    if actor:
        query = query.where(AuditEvent.actor_name == actor)
    if resource:
        prefix = resource.rstrip("/:")
        query = query.where(
            or_(
                AuditEvent.resource == prefix,
                AuditEvent.resource.startswith(prefix + "/", autoescape=True),
                AuditEvent.resource.startswith(prefix + ":", autoescape=True),
            )
        )
    if since:
        query = query.where(AuditEvent.occurred_at >= since)
    if until:
        query = query.where(AuditEvent.occurred_at < until)
    if after:
        at, row_id = after
        query = query.where(
            or_(
                AuditEvent.occurred_at < at,
                and_(AuditEvent.occurred_at == at, AuditEvent.id < row_id),
            )
        )
    query = query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(limit)
    return list((await session.scalars(query)).all())


async def prune(session: AsyncSession, before: datetime) -> int:
    # Core, not ORM: nothing loaded in the session needs updating, and SQLite's naive times
    # could not be compared with `before` in Python anyway.
    table = AuditEvent.__table__
    result = await session.execute(delete(table).where(table.c.occurred_at < before))
    return result.rowcount or 0
