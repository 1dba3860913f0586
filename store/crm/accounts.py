"""Accounts and their fields: keys generated and stored hashed, pages, the unique field names."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.crm import cache
from store.crm.models import Campo, Cuenta

KEY_PREFIX = "cc_"


def new_key() -> str:
    """`cc_` + 32 URL-safe random characters (24 random bytes)."""
    return KEY_PREFIX + secrets.token_urlsafe(24)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


async def create(session: AsyncSession, nombre: str, auto_crear_campos: bool):
    """Stores an account and returns (row, its key in clear: shown once)."""
    key = new_key()
    row = Cuenta(
        nombre=nombre,
        api_key_hash=hash_key(key),
        api_key_prefix=key[:7],
        activo=True,
        auto_crear_campos=auto_crear_campos,
    )
    session.add(row)
    await session.flush()
    return row, key


async def rotate_key(session: AsyncSession, row: Cuenta) -> str:
    key = new_key()
    row.api_key_hash = hash_key(key)
    row.api_key_prefix = key[:7]
    await session.flush()
    cache.forget_on_commit(session.sync_session, row.id)
    return key


async def get(session: AsyncSession, account_id: uuid.UUID) -> Cuenta | None:
    return await session.get(Cuenta, account_id)


async def page_active(
    session: AsyncSession, page: int, page_size: int
) -> tuple[Sequence[Cuenta], int]:
    active = Cuenta.activo.is_(True)
    total = await session.scalar(select(func.count()).select_from(Cuenta).where(active))
    rows = await session.scalars(
        select(Cuenta)
        .where(active)
        .order_by(Cuenta.created_at.desc(), Cuenta.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return rows.all(), total or 0


async def update(session: AsyncSession, row: Cuenta, changes: dict[str, Any]) -> Cuenta:
    for name, value in changes.items():
        setattr(row, name, value)
    await session.flush()
    cache.forget_on_commit(session.sync_session, row.id)
    return row


# --- fields ---------------------------------------------------------------------------------------


async def get_field(session: AsyncSession, field_id: uuid.UUID) -> Campo | None:
    return await session.get(Campo, field_id)


async def page_fields(
    session: AsyncSession, account_id: uuid.UUID, page: int, page_size: int
) -> tuple[Sequence[Campo], int]:
    mine = Campo.cuenta_id == account_id
    total = await session.scalar(select(func.count()).select_from(Campo).where(mine))
    rows = await session.scalars(
        select(Campo)
        .where(mine)
        .order_by(Campo.created_at, Campo.nombre_campo)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return rows.all(), total or 0


async def field_named(session: AsyncSession, account_id: uuid.UUID, name: str) -> Campo | None:
    return await session.scalar(
        select(Campo).where(Campo.cuenta_id == account_id, Campo.nombre_campo == name)
    )


async def add_field(session: AsyncSession, account_id: uuid.UUID, **values: Any) -> Campo:
    """Raises IntegrityError when the account already has a field of that name."""
    row = Campo(cuenta_id=account_id, **values)
    session.add(row)
    await session.flush()
    cache.forget_on_commit(session.sync_session, account_id)
    return row


async def update_field(session: AsyncSession, row: Campo, changes: dict[str, Any]) -> Campo:
    for name, value in changes.items():
        setattr(row, name, value)
    await session.flush()
    cache.forget_on_commit(session.sync_session, row.cuenta_id)
    return row


async def delete_field(session: AsyncSession, row: Campo) -> None:
    await session.delete(row)
    await session.flush()
    cache.forget_on_commit(session.sync_session, row.cuenta_id)
