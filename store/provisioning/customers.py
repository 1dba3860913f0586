"""Customer lookups the platform needs to link services and jobs to their customer."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.provisioning.models import Customer


async def by_id(session: AsyncSession, customer_id: uuid.UUID) -> Customer | None:
    return await session.get(Customer, customer_id)


async def by_prefix(session: AsyncSession, prefix: str) -> Customer | None:
    return await session.scalar(select(Customer).where(Customer.prefix == prefix))


async def prefix_for_service_name(session: AsyncSession, service_name: str) -> str | None:
    """The known customer whose prefix starts the service name (`acme-crm` → `acme`), longest first."""
    prefixes = await session.scalars(select(Customer.prefix))
    matches = [p for p in prefixes if service_name.startswith(f"{p}-")]
    return max(matches, key=len) if matches else None
