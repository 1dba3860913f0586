"""API keys: only a SHA-256 hash is stored; the key itself is shown once, when it is created."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.local_keys import API_KEY_PREFIX, new_api_key
from store.models import ApiKey

KEY_PREFIX = API_KEY_PREFIX
ADMIN_SCOPES = ["admin", "read", "write", "secrets"]


class LastAdminKey(Exception):
    """Revoking this key would leave no active admin key."""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def generate_key() -> str:
    return new_api_key()


async def create(session: AsyncSession, name: str, scopes: list[str], key: str | None = None):
    """Stores a key (generated unless given) and returns (row, key in clear)."""
    key = key or generate_key()
    row = ApiKey(name=name, key_prefix=key[:8], key_hash=hash_key(key), scopes=sorted(set(scopes)))
    session.add(row)
    await session.flush()
    return row, key


async def ensure(session: AsyncSession, name: str, key: str, scopes: list[str]) -> ApiKey:
    """Idempotently registers a known key (the admin key from settings or .data/)."""
    row = await session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
    if row is None:
        row, _ = await create(session, name, scopes, key)
    return row


async def find_active(session: AsyncSession, key: str) -> ApiKey | None:
    """A read only: the key's last use is written in batches (api/key_usage.py, `mark_used`)."""
    return await session.scalar(
        select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.active.is_(True))
    )


async def active_by_hash(session: AsyncSession, key_hashes: list[str]) -> dict[str, ApiKey]:
    """Of these key hashes, the active keys' rows, by hash (what an API process's key cache
    holds, checked in one query)."""
    rows = await session.scalars(
        select(ApiKey).where(ApiKey.key_hash.in_(key_hashes), ApiKey.active.is_(True))
    )
    return {row.key_hash: row for row in rows}


async def mark_used(session: AsyncSession, last_used: Mapping[uuid.UUID, datetime]) -> None:
    """Sets each key's `last_used_at`, never moving it back (another API process may have written
    a later use)."""
    for key_id, used_at in last_used.items():
        await session.execute(
            update(ApiKey)
            .where(
                ApiKey.id == key_id,
                or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < used_at),
            )
            .values(last_used_at=used_at)
        )


async def revoke(session: AsyncSession, key_id) -> ApiKey | None:
    """Deactivates a key; None when there is no such key. Raises LastAdminKey rather than revoke
    the last active admin key (nothing else could mint a new one through the API). The active
    keys are read FOR UPDATE so two concurrent revocations cannot each leave the other as the
    last one (PostgreSQL locks the rows; SQLite serialises writers)."""
    row = await session.get(ApiKey, key_id)
    if row is None:
        return None
    if row.active and "admin" in row.scopes:
        active = (
            await session.scalars(select(ApiKey).where(ApiKey.active.is_(True)).with_for_update())
        ).all()
        if not any(other.id != row.id and "admin" in other.scopes for other in active):
            raise LastAdminKey
    row.active = False
    return row
