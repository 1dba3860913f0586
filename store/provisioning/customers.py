"""The customers table (seed 000 §3): lookups, the API's writes, and what onboarding records."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import utcnow
from store.provisioning.models import Customer, ServiceRecord


async def by_id(
    session: AsyncSession, customer_id: uuid.UUID, *, for_update: bool = False
) -> Customer | None:
    return await session.get(Customer, customer_id, with_for_update=for_update)


async def by_prefix(session: AsyncSession, prefix: str) -> Customer | None:
    return await session.scalar(select(Customer).where(Customer.prefix == prefix))


async def active_for_update(session: AsyncSession, prefix: str) -> Customer | None:
    """The customer while it is active, its row locked until the transaction ends: a write that
    belongs to the customer (a service registered for it) then either commits before offboarding
    deactivates it, so offboarding finds it, or sees it inactive and is refused."""
    return await session.scalar(
        select(Customer)
        .where(Customer.prefix == prefix, Customer.active.is_(True))
        .with_for_update()
    )


async def by_onboarding_job(session: AsyncSession, job_id: str) -> Customer | None:
    return await session.scalar(select(Customer).where(Customer.onboarding_job_id == job_id))


async def prefix_for_service_name(session: AsyncSession, service_name: str) -> str | None:
    """The known customer whose prefix starts the service name (`acme-crm` → `acme`), longest first."""
    prefixes = await session.scalars(select(Customer.prefix))
    matches = [p for p in prefixes if service_name.startswith(f"{p}-")]
    return max(matches, key=len) if matches else None


# Fields a PUT may change (seed 000 §3.7); everything else is the platform's to write.
UPDATABLE = (
    "name",
    "email",
    "jira_project_key",
    "jira_project_id",
    "jira_sd_id",
    "jira_group_id",
    "litellm_user_id",
    "litellm_api_key_secret",
    "zenml_workspace_id",
    "zenml_workspace_url",
    "zenml_credentials_secret",
)
# What onboarding may write per branch: its status, its reason and its ids.
BRANCH_FIELDS = {
    "jira": ("jira_project_key", "jira_project_id", "jira_sd_id", "jira_group_id"),
    "litellm": ("litellm_user_id", "litellm_api_key_secret"),
    "zenml": ("zenml_workspace_id", "zenml_workspace_url", "zenml_credentials_secret"),
}


async def with_email(
    session: AsyncSession, email: str, *, other_than: uuid.UUID | None = None
) -> Customer | None:
    """A customer whose admin email is `email`, case aside (LiteLLM keeps one user per email)."""
    query = select(Customer).where(func.lower(Customer.email) == email.lower())
    if other_than is not None:
        query = query.where(Customer.id != other_than)
    return await session.scalar(query.limit(1))


async def listing(session: AsyncSession, *, active_only: bool) -> Sequence[Customer]:
    query = select(Customer).order_by(Customer.created_at, Customer.prefix)
    if active_only:
        query = query.where(Customer.active.is_(True))
    return (await session.scalars(query)).all()


async def add(session: AsyncSession, customer: Customer) -> Customer:
    """Inserts the record; IntegrityError (the unique prefix) is the caller's 409."""
    session.add(customer)
    await session.flush()
    return customer


async def update(session: AsyncSession, customer: Customer, changes: dict[str, Any]) -> Customer:
    for field, value in changes.items():
        if field not in UPDATABLE:
            raise ValueError(f"{field} cannot be changed")
        setattr(customer, field, value)
    customer.updated_at = utcnow()
    await session.flush()
    return customer


async def record_branch(
    session: AsyncSession,
    customer_id: uuid.UUID,
    branch: str,
    status: str,
    reason: str | None,
    fields: dict[str, str | None],
) -> bool:
    customer = await by_id(session, customer_id)
    if customer is None:
        return False
    setattr(customer, f"{branch}_status", status)
    setattr(customer, f"{branch}_reason", reason)
    for field, value in fields.items():
        if field not in BRANCH_FIELDS[branch]:
            raise ValueError(f"{field} is not a field of the {branch} provisioning")
        setattr(customer, field, value)
    customer.updated_at = utcnow()
    await session.flush()
    return True


async def remove(session: AsyncSession, customer_id: uuid.UUID, owner_job: str | None) -> bool:
    """Deletes the record; with `owner_job`, only the record that job owns."""
    query = delete(Customer).where(Customer.id == customer_id)
    if owner_job is not None:
        query = query.where(Customer.onboarding_job_id == owner_job)
    return (await session.execute(query)).rowcount > 0


async def services_of(session: AsyncSession, customer_id: uuid.UUID) -> Sequence[ServiceRecord]:
    query = select(ServiceRecord).where(ServiceRecord.customer_id == customer_id)
    return (await session.scalars(query.order_by(ServiceRecord.name))).all()
