"""The secret-value access audit: one row per attempt to read a value, or to make the platform read
one on the caller's behalf (an external service's `secret_refs`, a deployment's `secrets`). Never the
value itself.

`detail` starts with the outcome (ok, not_found, denied, upstream_error); for a reference, what
referenced it follows: `ok; external_service=main-pg; purpose=health_check`."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.provisioning.models import SecretAccessAudit

READ_VALUE = "read_value"
REFERENCED_BY_EXTERNAL_SERVICE = "referenced_by_external_service"
REFERENCED_BY_DEPLOYMENT = "referenced_by_deployment"
REFERENCED_BY_CUSTOMER = "referenced_by_customer"

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


async def record_many(
    session: AsyncSession,
    secret_names: list[str],
    api_key_id: uuid.UUID | None,
    api_key_name: str | None,
    detail: str,
    action: str,
) -> None:
    for name in sorted(set(secret_names)):
        await record(session, name, api_key_id, api_key_name, detail, action)


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
