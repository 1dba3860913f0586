"""The secret-value access audit: one row per attempt to read a value. Never the value itself."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.provisioning.models import SecretAccessAudit

READ_VALUE = "read_value"

# Outcomes written in `detail`.
OK = "ok"
NOT_FOUND = "not_found"
DENIED = "denied"
UPSTREAM_ERROR = "upstream_error"


async def record(
    session: AsyncSession,
    secret_name: str,
    api_key_id: uuid.UUID | None,
    api_key_name: str | None,
    detail: str,
    action: str = READ_VALUE,
) -> SecretAccessAudit:
    row = SecretAccessAudit(
        secret_name=secret_name,
        api_key_id=api_key_id,
        api_key_name=api_key_name,
        action=action,
        detail=detail,
    )
    session.add(row)
    await session.flush()
    return row


async def for_secret(
    session: AsyncSession, secret_name: str, limit: int = 100
) -> list[SecretAccessAudit]:
    """The secret's audit rows, newest first."""
    query = (
        select(SecretAccessAudit)
        .where(SecretAccessAudit.secret_name == secret_name)
        .order_by(SecretAccessAudit.accessed_at.desc(), SecretAccessAudit.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())
