"""create_service_database behind the router: the target must be an active Postgres service, the
customer must exist, and a password the caller gives is staged in Secret Manager for the job."""

from __future__ import annotations

import asyncio
import uuid

from api.cloud import call_cloud
from api.errors import ApiError, not_found
from contracts.provisioning.service_databases import JOB_LABEL, SecretPlan
from core.settings import Settings
from providers.google.cloud_run_spec import MANAGED_BY, MANAGED_BY_LABEL
from providers.google.secret_manager import SecretStore
from providers.service_templates import ExternalServiceType
from store.db import Database
from store.provisioning import customers, external_services
from store.provisioning.models import ExternalService

_MANAGED = {MANAGED_BY_LABEL: MANAGED_BY}


def secret_plan(service_name: str, customer_prefix: str | None) -> SecretPlan:
    if customer_prefix is None:
        base, labels = service_name, {"scope": "global", "service": service_name}
        scope = "GLOBAL"
    else:
        base = f"{customer_prefix}-{service_name}"
        labels = {"scope": "customer", "customer": customer_prefix, "service": service_name}
        scope = "CUSTOMER"
    return SecretPlan(
        scope=scope,
        password=f"{base}-password",
        connection_string=f"{base}-connection-string",
        labels={**labels, **_MANAGED},
    )


async def postgres_service(db: Database, service_id: uuid.UUID) -> ExternalService:
    async with db.transaction() as session:
        row = await external_services.by_id(session, service_id)
    if row is None:
        raise not_found("external service", service_id=str(service_id))
    if row.type != ExternalServiceType.POSTGRES:
        raise ApiError(
            400,
            f"service databases need a postgres service, not {row.type}",
            details={"type": row.type},
        )
    if not row.active:
        raise ApiError(409, f"external service {row.name} is inactive")
    return row


async def customer_prefix(db: Database, customer_id: uuid.UUID | None) -> str | None:
    if customer_id is None:
        return None
    async with db.transaction() as session:
        customer = await customers.by_id(session, customer_id)
    if customer is None:
        raise ApiError(400, f"unknown customer {customer_id}", details={"field": "customer_id"})
    return customer.prefix


def staged_password_name(job_id: str) -> str:
    return f"{job_id}-given-password"


async def stage_password(settings: Settings, job_id: str, password: str) -> str:
    """Writes the caller's password where only the job `job_id` will read it (and delete it)."""
    name = staged_password_name(job_id)
    await call_cloud(
        "staging the given password",
        SecretStore(settings).ensure,
        name,
        password,
        {JOB_LABEL: job_id, "purpose": "job-input", **_MANAGED},
    )
    return name


async def drop_staged_password(settings: Settings, name: str) -> None:
    await asyncio.to_thread(SecretStore(settings).delete, name)
