"""Learned APIs as stored: an API and its operations written in one go (keyed by the learning
job, so a retried write writes once), listed with their operation counts, and an operation found
by its tool name."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.assistant.models import LearnedApi, LearnedOperation


async def save(
    session: AsyncSession, api: dict[str, Any], operations: list[dict[str, Any]]
) -> LearnedApi:
    """Writes the API (replacing what a previous attempt of the same job wrote)."""
    found = await session.get(LearnedApi, api["id"])
    if found is not None:
        await session.execute(delete(LearnedOperation).where(LearnedOperation.api_id == api["id"]))
        for key, value in api.items():
            setattr(found, key, value)
        row = found
    else:
        row = LearnedApi(**api)
        session.add(row)
    await session.flush()
    session.add_all(LearnedOperation(api_id=api["id"], **op) for op in operations)
    await session.flush()
    return row


async def forget(session: AsyncSession, api_id: str, job_id: str) -> bool:
    """Removes the API and its operations if that job wrote them (a failed or cancelled learning's
    undo); False when there is nothing of that job's."""
    found = await session.get(LearnedApi, api_id)
    if found is None or found.job_id != job_id:
        return False
    await session.execute(delete(LearnedOperation).where(LearnedOperation.api_id == api_id))
    await session.delete(found)
    await session.flush()
    return True


async def slug_taken(session: AsyncSession, slug: str, api_id: str) -> bool:
    query = select(LearnedApi.id).where(LearnedApi.slug == slug, LearnedApi.id != api_id)
    return (await session.scalar(query)) is not None


async def listed(session: AsyncSession, owner: str) -> list[tuple[LearnedApi, int]]:
    counts = (
        select(LearnedOperation.api_id, func.count().label("n"))
        .group_by(LearnedOperation.api_id)
        .subquery()
    )
    query = (
        select(LearnedApi, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.api_id == LearnedApi.id)
        .where(LearnedApi.owner == owner)
        .order_by(LearnedApi.learned_at.desc())
    )
    return [(row, int(n)) for row, n in (await session.execute(query)).all()]


async def operations_of(session: AsyncSession, owner: str, limit: int) -> list[LearnedOperation]:
    query = (
        select(LearnedOperation)
        .join(LearnedApi, LearnedApi.id == LearnedOperation.api_id)
        .where(LearnedApi.owner == owner)
        .order_by(LearnedApi.learned_at.desc(), LearnedOperation.tool_name)
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def operation(
    session: AsyncSession, tool_name: str
) -> tuple[LearnedOperation, LearnedApi] | None:
    op = await session.get(LearnedOperation, tool_name)
    if op is None:
        return None
    api = await session.get(LearnedApi, op.api_id)
    return (op, api) if api is not None else None
