"""The registry of deployed Cloud Run services: upsert after a deploy, delete after an undeploy."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.provisioning import customers
from store.provisioning.models import Customer, ServiceRecord


async def upsert(
    session: AsyncSession,
    *,
    name: str,
    region: str,
    url: str | None,
    image: str | None,
    customer_prefix: str | None,
    labels: dict[str, Any],
    deployed_at: datetime,
) -> ServiceRecord:
    customer = await customers.by_prefix(session, customer_prefix) if customer_prefix else None
    record = await session.scalar(select(ServiceRecord).where(ServiceRecord.name == name))
    if record is None:
        record = ServiceRecord(name=name)
        session.add(record)
    record.region = region
    record.url = url
    record.image = image
    record.labels = labels
    record.deployed_at = deployed_at
    record.status = "Running"
    record.customer_id = customer.id if customer else None
    record.category = "customer" if customer else "managed"
    await session.flush()
    return record


async def remove(session: AsyncSession, name: str) -> bool:
    result = await session.execute(delete(ServiceRecord).where(ServiceRecord.name == name))
    return result.rowcount > 0


async def with_customer(
    session: AsyncSession, name: str
) -> tuple[ServiceRecord | None, Customer | None]:
    row = (
        await session.execute(
            select(ServiceRecord, Customer)
            .outerjoin(Customer, ServiceRecord.customer_id == Customer.id)
            .where(ServiceRecord.name == name)
        )
    ).first()
    return (row[0], row[1]) if row else (None, None)


async def all_with_customers(
    session: AsyncSession,
) -> Sequence[tuple[ServiceRecord, Customer | None]]:
    rows = await session.execute(
        select(ServiceRecord, Customer).outerjoin(
            Customer, ServiceRecord.customer_id == Customer.id
        )
    )
    return rows.tuples().all()
