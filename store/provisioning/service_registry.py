"""The registry of deployed Cloud Run services: upsert after a deploy, delete after an undeploy."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.provisioning.drift import SERVICE_KIND
from store.oversight import resource_states
from store.provisioning import customers
from store.provisioning.models import Customer, ServiceRecord


class CustomerNotActive(Exception):
    """The service belongs to a customer that is being offboarded or is gone: registering it would
    leave it behind unowned, as offboarding has listed (or is past) the customer's services."""

    def __init__(self, prefix: str) -> None:
        super().__init__(f"customer {prefix} is being offboarded or no longer exists")
        self.prefix = prefix


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
    customer = None
    if customer_prefix:
        customer = await customers.active_for_update(session, customer_prefix)
        if customer is None:
            raise CustomerNotActive(customer_prefix)
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
    """The registry row and what the platform applied to the service (its drift record): the
    service is no longer the platform's to observe."""
    await resource_states.forget(session, SERVICE_KIND, name)
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
