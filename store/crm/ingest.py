"""What one ingest writes: its record and lead, the fields it introduces, and its delivery; the
caller holds these in one transaction (`begin`)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from store.crm import cache
from store.crm.models import Campo, Cuenta, Delivery, Lead, Record
from store.db import Database
from store.models import utcnow

# The ingest runs on a bare connection with Core statements: the ORM's unit of work, identity map
# and object construction cost more than the two INSERTs themselves (see the README's CRM section).
_record = Record.__table__
_lead = Lead.__table__
_field = Campo.__table__
_account = Cuenta.__table__
_delivery = Delivery.__table__
_INSERT_RECORD = _record.insert()
_INSERT_LEAD = _lead.insert()


async def account_by_hash(conn: AsyncConnection, key_hash: str) -> cache.AccountView | None:
    """The active account a key hash belongs to: one indexed lookup whether or not it exists."""
    row = (
        await conn.execute(
            select(_account.c.id, _account.c.auto_crear_campos).where(
                _account.c.api_key_hash == key_hash, _account.c.activo.is_(True)
            )
        )
    ).first()
    return cache.AccountView(id=row.id, auto_crear_campos=row.auto_crear_campos) if row else None


async def fields_of(conn: AsyncConnection, account_id: uuid.UUID) -> cache.Fields:
    """The account's field names and whether each is required."""
    rows = await conn.execute(
        select(_field.c.nombre_campo, _field.c.es_requerido).where(_field.c.cuenta_id == account_id)
    )
    return {name: required for name, required in rows}


async def create_fields(
    conn: AsyncConnection, account_id: uuid.UUID, fields: Iterable[tuple[str, str]]
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
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(_field)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["cuenta_id", "nombre_campo"])
        .returning(_field.c.nombre_campo)
    )
    created = await conn.scalars(statement)
    return sorted(created.all())


async def add_record_and_lead(
    conn: AsyncConnection,
    account_id: uuid.UUID,
    payload: dict[str, Any],
    metadata: dict[str, Any],
    lead_datos: dict[str, Any],
) -> tuple[uuid.UUID, uuid.UUID]:
    """The record, then its lead (which references it); ids made here, so no RETURNING."""
    now = utcnow()
    record_id, lead_id = uuid.uuid4(), uuid.uuid4()
    # Prebuilt statements with parameters: `.values(...)` per call built a new statement and its
    # cache key each time (a tenth of the request's CPU in the profile).
    await conn.execute(
        _INSERT_RECORD,
        {
            "id": record_id,
            "cuenta_id": account_id,
            "datos": payload,
            "metadata": metadata,
            "created_at": now,
        },
    )
    await conn.execute(
        _INSERT_LEAD,
        {
            "id": lead_id,
            "cuenta_id": account_id,
            "record_id": record_id,
            "datos": lead_datos,
            "created_at": now,
        },
    )
    return record_id, lead_id


async def delivery(conn: AsyncConnection, account_id: uuid.UUID, key: str):
    """The stored delivery (`request_hash`, `response`) or None."""
    return (
        await conn.execute(
            select(_delivery.c.request_hash, _delivery.c.response).where(
                _delivery.c.cuenta_id == account_id, _delivery.c.delivery_key == key
            )
        )
    ).first()


async def add_delivery(
    conn: AsyncConnection,
    account_id: uuid.UUID,
    key: str,
    request_hash: str,
    response: dict[str, Any],
) -> None:
    await conn.execute(
        _delivery.insert().values(
            cuenta_id=account_id,
            delivery_key=key,
            request_hash=request_hash,
            response=response,
            created_at=utcnow(),
        )
    )


# SQLite admits one writer at a time. Concurrent ingests on pooled connections otherwise collide
# on the write lock and wait in SQLite's busy handler, which polls with sleeps of up to 100 ms (the
# bench's p99 at 10 clients was 500-850 ms against a p50 of 15 ms); queued here they wait only for
# the writer ahead of them. One lock per engine (and so per event loop).
_sqlite_writers: WeakKeyDictionary[AsyncEngine, asyncio.Lock] = WeakKeyDictionary()


@asynccontextmanager
async def begin(db: Database) -> AsyncIterator[AsyncConnection]:
    """One transaction on a bare connection (no ORM session): `async with begin(db) as conn`."""
    engine = db.engine
    if engine.dialect.name != "sqlite":
        async with engine.begin() as conn:
            yield conn
        return
    lock = _sqlite_writers.get(engine)
    if lock is None:
        lock = _sqlite_writers[engine] = asyncio.Lock()
    async with lock, engine.begin() as conn:
        yield conn


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
