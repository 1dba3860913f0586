"""What one ingest writes: its record and lead, the fields it introduces, and its delivery; the
caller holds these in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from store.crm.models import Campo, Delivery, Lead, Record
from store.models import utcnow


async def fields_of(session: AsyncSession, account_id: uuid.UUID) -> dict[str, Campo]:
    rows = await session.scalars(select(Campo).where(Campo.cuenta_id == account_id))
    return {row.nombre_campo: row for row in rows}


async def create_fields(
    session: AsyncSession, account_id: uuid.UUID, fields: Iterable[tuple[str, str]]
) -> list[str]:
    """Inserts the fields no one has created yet and returns the names this call created.

    `ON CONFLICT DO NOTHING` on (account, name): an ingest racing another that introduces the same
    field waits for it and skips the row instead of failing. Rows go in name order, so two
    transactions inserting overlapping sets take their row locks in the same order (no deadlock).
    """
    rows = [
        {
            "id": uuid.uuid4(),
            "cuenta_id": account_id,
            "nombre_campo": name,
            "tipo_dato": tipo,
            "es_requerido": False,
            "created_at": utcnow(),
        }
        for name, tipo in sorted(fields)
    ]
    if not rows:
        return []
    dialect = session.bind.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(Campo)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["cuenta_id", "nombre_campo"])
        .returning(Campo.nombre_campo)
    )
    created = await session.scalars(statement)
    return sorted(created.all())


async def add_record_and_lead(
    session: AsyncSession,
    account_id: uuid.UUID,
    payload: dict[str, Any],
    metadata: dict[str, Any],
    lead_datos: dict[str, Any],
) -> tuple[Record, Lead]:
    now = utcnow()
    record = Record(
        id=uuid.uuid4(), cuenta_id=account_id, datos=payload, metadata_=metadata, created_at=now
    )
    lead = Lead(
        id=uuid.uuid4(), cuenta_id=account_id, record_id=record.id, datos=lead_datos, created_at=now
    )
    # The record first: no relationship tells the unit of work the lead depends on it.
    session.add(record)
    await session.flush()
    session.add(lead)
    return record, lead


async def delivery(session: AsyncSession, account_id: uuid.UUID, key: str) -> Delivery | None:
    return await session.get(Delivery, (account_id, key))


def add_delivery(
    session: AsyncSession,
    account_id: uuid.UUID,
    key: str,
    request_hash: str,
    response: dict[str, Any],
) -> None:
    session.add(
        Delivery(
            cuenta_id=account_id, delivery_key=key, request_hash=request_hash, response=response
        )
    )


async def page_of(
    session: AsyncSession, model: type[Record] | type[Lead], account_id, page: int, page_size: int
):
    """Newest first; ties (one timestamp) broken by id so pages never overlap."""
    mine = model.cuenta_id == account_id
    total = await session.scalar(select(func.count()).select_from(model).where(mine))
    rows = await session.scalars(
        select(model)
        .where(mine)
        .order_by(model.created_at.desc(), model.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return rows.all(), total or 0
