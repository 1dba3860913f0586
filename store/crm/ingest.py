"""What one ingest writes: its record and lead, the fields it introduces, and its delivery; the
caller runs them in one transaction (`Database.write`, a writer thread on SQLite), so they are
plain synchronous Core calls on a `Connection`."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from store.crm import cache
from store.crm.models import Campo, Cuenta, Delivery, Lead, Record
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
# PostgreSQL: the record and its lead in one statement (one round trip instead of two); the lead's
# foreign key is checked at the statement's end, when the CTE's record exists.
_INSERT_RECORD_AND_LEAD = (
    _lead.insert()
    .values(
        id=bindparam("lead_id"),
        cuenta_id=bindparam("cuenta_id"),
        record_id=bindparam("record_id"),
        datos=bindparam("lead_datos", type_=_lead.c.datos.type),
        created_at=bindparam("created_at"),
    )
    .add_cte(
        _record.insert()
        .values(
            id=bindparam("record_id"),
            cuenta_id=bindparam("cuenta_id"),
            datos=bindparam("record_datos", type_=_record.c.datos.type),
            metadata=bindparam("metadata", type_=_record.c["metadata"].type),
            created_at=bindparam("created_at"),
        )
        .cte("new_record")
    )
)


def account_by_hash(conn: Connection, key_hash: str) -> cache.AccountView | None:
    """The active account a key hash belongs to: one indexed lookup whether or not it exists."""
    row = (
        conn.execute(
            select(_account.c.id, _account.c.auto_crear_campos).where(
                _account.c.api_key_hash == key_hash, _account.c.activo.is_(True)
            )
        )
    ).first()
    return cache.AccountView(id=row.id, auto_crear_campos=row.auto_crear_campos) if row else None


def fields_of(conn: Connection, account_id: uuid.UUID) -> cache.Fields:
    """The account's field names and whether each is required."""
    rows = conn.execute(
        select(_field.c.nombre_campo, _field.c.es_requerido).where(_field.c.cuenta_id == account_id)
    )
    return {name: required for name, required in rows}


def create_fields(
    conn: Connection, account_id: uuid.UUID, fields: Iterable[tuple[str, str]]
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
    created = conn.scalars(statement)
    return sorted(created.all())


def add_record_and_lead(
    conn: Connection,
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
    if conn.dialect.name == "postgresql":
        conn.execute(
            _INSERT_RECORD_AND_LEAD,
            {
                "record_id": record_id,
                "cuenta_id": account_id,
                "record_datos": payload,
                "metadata": metadata,
                "created_at": now,
                "lead_id": lead_id,
                "lead_datos": lead_datos,
            },
        )
        return record_id, lead_id
    conn.execute(
        _INSERT_RECORD,
        {
            "id": record_id,
            "cuenta_id": account_id,
            "datos": payload,
            "metadata": metadata,
            "created_at": now,
        },
    )
    conn.execute(
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


def delivery(conn: Connection, account_id: uuid.UUID, key: str):
    """The stored delivery (`request_hash`, `response`) or None."""
    return (
        conn.execute(
            select(_delivery.c.request_hash, _delivery.c.response).where(
                _delivery.c.cuenta_id == account_id, _delivery.c.delivery_key == key
            )
        )
    ).first()


def add_delivery(
    conn: Connection,
    account_id: uuid.UUID,
    key: str,
    request_hash: str,
    response: dict[str, Any],
) -> None:
    conn.execute(
        _delivery.insert().values(
            cuenta_id=account_id,
            delivery_key=key,
            request_hash=request_hash,
            response=response,
            created_at=utcnow(),
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
