"""The registry of external services (seed 000 §2): the `external_services` table, nothing else.

Validation (names, types, secret refs) belongs to the API; these functions only read and write rows
inside the caller's transaction. A duplicate name surfaces as SQLAlchemy's IntegrityError on flush.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.provisioning.models import ExternalService

# API field name → model attribute, where they differ ("metadata" is reserved on declarative models).
_ATTRIBUTES = {"metadata": "service_metadata"}
UPDATABLE = frozenset({"url", "cloud_console", "metadata", "secret_refs", "active"})


async def by_id(session: AsyncSession, service_id: uuid.UUID) -> ExternalService | None:
    return await session.get(ExternalService, service_id)


async def by_name(session: AsyncSession, name: str) -> ExternalService | None:
    return await session.scalar(select(ExternalService).where(ExternalService.name == name))


async def list_services(
    session: AsyncSession,
    *,
    service_type: str | None = None,
    active_only: bool = True,
    limit: int | None = None,
    offset: int = 0,
) -> tuple[Sequence[ExternalService], int]:
    """One page of the matching rows by name, and how many match in all."""
    conditions = []
    if service_type is not None:
        conditions.append(ExternalService.type == service_type)
    if active_only:
        conditions.append(ExternalService.active.is_(True))
    query = select(ExternalService).where(*conditions).order_by(ExternalService.name)
    total = await session.scalar(
        select(func.count()).select_from(ExternalService).where(*conditions)
    )
    rows = (await session.scalars(query.offset(offset).limit(limit))).all()
    return rows, total or 0


async def create(
    session: AsyncSession,
    *,
    name: str,
    service_type: str,
    url: str | None,
    cloud_console: str | None,
    metadata: dict[str, Any],
    secret_refs: dict[str, str],
    active: bool,
    health_status: str | None,
    last_health_check: datetime | None,
) -> ExternalService:
    row = ExternalService(
        name=name,
        type=service_type,
        url=url,
        cloud_console=cloud_console,
        service_metadata=metadata,
        secret_refs=secret_refs,
        active=active,
        health_status=health_status,
        last_health_check=last_health_check,
    )
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row


async def apply_changes(
    session: AsyncSession,
    row: ExternalService,
    changes: Mapping[str, Any],
    *,
    health: tuple[str, datetime] | None = None,
) -> ExternalService:
    """Sets the given API fields (`metadata`, `url`, …) on `row`, and a health-check outcome
    (status, checked at) when given; unknown fields are a bug."""
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    for field, value in changes.items():
        setattr(row, _ATTRIBUTES.get(field, field), value)
    if health is not None:
        row.health_status, row.last_health_check = health
    await session.flush()
    await session.refresh(row)
    return row


async def record_health(
    session: AsyncSession, service_id: uuid.UUID, status: str, checked_at: datetime
) -> bool:
    """Stores a health-check outcome without touching `updated_at` (a check is not an edit)."""
    result = await session.execute(
        update(ExternalService)
        .where(ExternalService.id == service_id)
        .values(
            health_status=status,
            last_health_check=checked_at,
            updated_at=ExternalService.updated_at,
        )
    )
    return result.rowcount > 0


async def remove(session: AsyncSession, service_id: uuid.UUID) -> bool:
    result = await session.execute(delete(ExternalService).where(ExternalService.id == service_id))
    return result.rowcount > 0
