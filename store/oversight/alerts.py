"""The alerts table: raised once per (kind, job), announced once (its webhook event), resolved
when the job has ended, paged newest first."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.oversight.models import Alert


async def raise_new(
    session: AsyncSession, drafts: list[dict[str, Any]], now: datetime
) -> list[str]:
    """Inserts the drafts whose (kind, job_id) has no alert yet; returns their job ids. One reaper
    runs at a time (its schedule skips overlaps), so reading then inserting does not race; the
    unique constraint is the backstop."""
    if not drafts:
        return []
    keys = [(d["kind"], d["job_id"]) for d in drafts]
    known = set(
        (
            await session.execute(
                select(Alert.kind, Alert.job_id).where(tuple_(Alert.kind, Alert.job_id).in_(keys))
            )
        ).all()
    )
    fresh = [d for d in drafts if (d["kind"], d["job_id"]) not in known]
    session.add_all(Alert(**d, raised_at=now) for d in fresh)
    return [d["job_id"] for d in fresh]


async def unannounced(session: AsyncSession, kind: str, job_ids: list[str]) -> list[str]:
    """Of `job_ids`, those whose open `kind` alert has not been announced yet (raised by an
    attempt that failed before its webhook event went out)."""
    if not job_ids:
        return []
    query = select(Alert.job_id).where(
        Alert.kind == kind,
        Alert.job_id.in_(job_ids),
        Alert.resolved_at.is_(None),
        Alert.announced_at.is_(None),
    )
    return list((await session.scalars(query)).all())


async def announced(session: AsyncSession, kind: str, job_ids: list[str], now: datetime) -> None:
    if job_ids:
        await session.execute(
            update(Alert)
            .where(Alert.kind == kind, Alert.job_id.in_(job_ids), Alert.announced_at.is_(None))
            .values(announced_at=now)
            .execution_options(synchronize_session=False)
        )


async def open_job_ids(session: AsyncSession, kind: str) -> list[str]:
    query = select(Alert.job_id).where(Alert.kind == kind, Alert.resolved_at.is_(None))
    return list((await session.scalars(query)).all())


async def open_counts(session: AsyncSession, kind: str) -> dict[str, int]:
    """Open alerts of `kind`, by workflow type."""
    query = (
        select(Alert.workflow_type, func.count())
        .where(Alert.kind == kind, Alert.resolved_at.is_(None))
        .group_by(Alert.workflow_type)
    )
    return {workflow_type: count for workflow_type, count in (await session.execute(query)).all()}


async def resolve(session: AsyncSession, kind: str, job_ids: list[str], now: datetime) -> None:
    if job_ids:
        await session.execute(
            update(Alert)
            .where(Alert.kind == kind, Alert.job_id.in_(job_ids), Alert.resolved_at.is_(None))
            .values(resolved_at=now)
            .execution_options(synchronize_session=False)
        )


async def page(
    session: AsyncSession,
    *,
    resolved: bool | None,
    kind: str | None,
    job_id: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Alert]:
    query = select(Alert)
    if resolved is not None:
        query = query.where(
            Alert.resolved_at.is_not(None) if resolved else Alert.resolved_at.is_(None)
        )
    if kind:
        query = query.where(Alert.kind == kind)
    if job_id:
        query = query.where(Alert.job_id == job_id)
    if after:
        at, row_id = after
        query = query.where(
            or_(Alert.raised_at < at, and_(Alert.raised_at == at, Alert.id < row_id))
        )
    query = query.order_by(Alert.raised_at.desc(), Alert.id.desc()).limit(limit)
    return list((await session.scalars(query)).all())


async def get(session: AsyncSession, alert_id: uuid.UUID) -> Alert | None:
    return await session.get(Alert, alert_id, with_for_update=True)
