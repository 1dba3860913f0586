"""API keys: only a SHA-256 hash is stored; the key itself is shown once, when it is created."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import ApiKey

KEY_PREFIX = "csk_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


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
    row = await session.scalar(
        select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.active.is_(True))
    )
    if row is not None:
        await session.execute(
            update(ApiKey).where(ApiKey.id == row.id).values(last_used_at=datetime.now(UTC))
        )
    return row
