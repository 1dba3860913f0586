"""POST /external-services/{id}/create_service_database (seed 000 §2.10): starts CreateServiceDatabase.

A password given in the request is written to Secret Manager here, under a staging name tied to the
job, before the job starts: the workflow (and so its history) only ever receives that name.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Path, status

from api.auth import Writer
from api.cloud import call_cloud
from api.deps import DbDep, SettingsDep, TemporalDep
from api.errors import ApiError, not_found
from api.job_engine import JobEngine, job_id_for
from api.schemas.jobs import JobResponse
from api.schemas.provisioning.service_databases import ServiceDatabaseCreate
from contracts.provisioning.service_databases import (
    JOB_LABEL,
    CreateServiceDatabaseInput,
    SecretPlan,
)
from providers.google.secret_manager import SecretStore
from providers.service_templates import ExternalServiceType
from store.provisioning import customers, external_services
from store.provisioning.models import ExternalService
from workflows.provisioning.service_databases import OPERATION

router = APIRouter(prefix="/api/v1/external-services", tags=["external services"])

MANAGED_BY = {"managed-by": "conneskills-platform"}


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
        labels={**labels, **MANAGED_BY},
    )


async def _postgres_service(db: DbDep, service_id: uuid.UUID) -> ExternalService:
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


async def _customer_prefix(db: DbDep, customer_id: uuid.UUID | None) -> str | None:
    if customer_id is None:
        return None
    async with db.transaction() as session:
        customer = await customers.by_id(session, customer_id)
    if customer is None:
        raise ApiError(400, f"unknown customer {customer_id}", details={"field": "customer_id"})
    return customer.prefix


@router.post(
    "/{service_id}/create_service_database",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobResponse,
)
async def create_service_database(
    service_id: Annotated[uuid.UUID, Path()],
    request: ServiceDatabaseCreate,
    _: Writer,
    settings: SettingsDep,
    db: DbDep,
    temporal: TemporalDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
) -> JobResponse:
    await _postgres_service(db, service_id)
    prefix = await _customer_prefix(db, request.customer_id)
    engine = JobEngine(temporal, settings)
    job_id = job_id_for(OPERATION, idempotency_key)
    staged: str | None = None
    if request.password is not None and not (idempotency_key and await engine.exists(job_id)):
        staged = f"{job_id}-given-password"
        store = SecretStore(settings)
        await call_cloud(
            "staging the given password",
            store.ensure,
            staged,
            request.password.get_secret_value(),
            {JOB_LABEL: job_id, "purpose": "job-input", **MANAGED_BY},
        )
    body = request.model_dump(mode="json", exclude={"password"})
    body["service_id"] = str(service_id)
    # The hash that guards an Idempotency-Key says whether a password was given, never which.
    body["password_given"] = request.password is not None
    try:
        return await engine.start(
            "CreateServiceDatabase",
            CreateServiceDatabaseInput(
                external_service_id=str(service_id),
                db_name=request.db_name,
                service_name=request.service_name,
                customer_prefix=prefix,
                staged_password_secret=staged,
                secrets=secret_plan(request.service_name, prefix),
            ),
            operation=OPERATION,
            service_name=request.service_name,
            customer_prefix=prefix,
            idempotency_key=idempotency_key,
            body=body,
            estimated_time="1 minute",
        )
    except BaseException:
        if staged:
            await asyncio.to_thread(SecretStore(settings).delete, staged)
        raise
