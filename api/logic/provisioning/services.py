"""Cloud Run services behind the router: the registry rows and owners that reads join with Cloud
Run's own state, the customer a request names, and the force delete."""

from __future__ import annotations

import asyncio

import structlog
from google.cloud import run_v2

from api.auth import Principal
from api.cloud import call_cloud
from api.errors import ApiError, not_found
from api.job_engine import job_id_for
from api.logic.provisioning.secret_access import deployment_secret_names, deployment_use
from api.schemas.provisioning.services import ServiceCategory, ServicePlan, ServiceSummary
from contracts.provisioning.drift import SERVICE_KIND
from contracts.provisioning.services import ServiceSpec
from core.settings import Settings
from providers.google.cloud_run import CloudRunServices
from providers.google.cloud_run_drift import managed
from store.db import Database
from store.oversight import resource_states
from store.oversight.models import ResourceState
from store.provisioning import customers, external_services, secret_audit, service_registry
from store.provisioning.models import Customer, ServiceRecord

log = structlog.get_logger(__name__)


async def registry_index(
    db: Database,
) -> dict[str, tuple[ServiceRecord | None, Customer | None, ResourceState | None]]:
    """Each registered service with its customer and the drift observer's state of it."""
    async with db.transaction() as session:
        rows = await service_registry.all_with_customers(session)
        states = {s.name: s for s in await resource_states.all_of(session, SERVICE_KIND)}
    return {record.name: (record, customer, states.get(record.name)) for record, customer in rows}


async def named_customer(db: Database, requested: str | None) -> str | None:
    """A customer named in the request must exist. Otherwise the job finds the customer from the
    service name itself, so a deploy costs the API no database read."""
    if requested is None:
        return None
    async with db.transaction() as session:
        if await customers.by_prefix(session, requested) is None:
            raise ApiError(400, f"unknown customer '{requested}'", details={"field": "customer"})
    return requested


async def cloud_run_service(settings: Settings, name: str, region: str | None) -> run_v2.Service:
    service = await call_cloud(
        f"reading service {name}", CloudRunServices(settings).get, name, region
    )
    if service is None:
        raise not_found("service", service_name=name)
    return service


async def service_with_owner(settings: Settings, db: Database, name: str, region: str | None):
    service = await cloud_run_service(settings, name, region)
    async with db.transaction() as session:
        record, owner = await service_registry.with_customer(session, name)
        state = await resource_states.get(session, SERVICE_KIND, name)
    return service, record, owner, state


async def reconcilable(settings: Settings, db: Database, name: str, region: str | None) -> str:
    """The region to reconcile `name` in. 404 unless the platform applied it (its configuration is
    recorded) and it exists; 409 when it does not carry the platform's mark (left alone)."""
    async with db.transaction() as session:
        state = await resource_states.get(session, SERVICE_KIND, name)
    if state is None or not state.applied:
        raise not_found("service", service_name=name)
    region = region or state.region or settings.gcp_region
    service = await cloud_run_service(settings, name, region)
    if not managed(service):
        raise ApiError(
            409,
            f"service {name} does not carry the platform's mark; it is not reconciled",
            details={"service_name": name},
        )
    return region


async def external_summaries(db: Database) -> list[ServiceSummary]:
    async with db.transaction() as session:
        rows, _total = await external_services.list_services(session, active_only=False)
    return [
        ServiceSummary(
            name=row.name,
            type=row.type,
            status=(row.health_status or "unknown"),
            url=None,
            category=ServiceCategory.external,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
        for row in rows
    ]


async def authorize_mounted_secrets(
    db: Database, principal: Principal, request, operation: str, idempotency_key: str | None
) -> str:
    """The job id to start; before it, the secrets the body mounts are authorized and audited."""
    job_id = job_id_for(operation, idempotency_key, principal)
    names = deployment_secret_names(request.secrets)
    use = deployment_use(db, principal, request.service_name, job_id)
    await use.authorize(names)
    await use.record(names, secret_audit.OK)
    return job_id


async def force_delete(settings: Settings, db: Database, name: str, region: str | None) -> None:
    """Deletes without a job and without checks; the outcome is logged, never raised."""
    outcome = await asyncio.to_thread(CloudRunServices(settings).force_delete, name, region)
    async with db.transaction() as session:
        removed = await service_registry.remove(session, name)
    log.info("force delete", service_name=name, outcome=outcome, registry_removed=removed)


async def plan(
    settings: Settings, db: Database, principal: Principal, request, region: str, *, update: bool
) -> ServicePlan:
    """The dry run: what the request would change (`CloudRunServices.plan`, the function the job's
    stale-plan check uses too). Mounting secrets needs the same scope as applying; nothing is
    referenced yet, so nothing is audited as referenced."""
    names = deployment_secret_names(request.secrets)
    await deployment_use(db, principal, request.service_name, "plan").authorize(names)
    spec: ServiceSpec = request.spec()
    planned = await call_cloud(
        f"planning service {spec.service_name}", CloudRunServices(settings).plan, spec, region
    )
    if update and planned.action == "create":
        raise not_found("service", service_name=spec.service_name)
    return ServicePlan.model_validate(planned.model_dump())


def plan_hash_of(request, query: str | None) -> str | None:
    """`plan_hash` from the body or the query; both given must agree."""
    if query and request.plan_hash and query != request.plan_hash:
        raise ApiError(
            400,
            "plan_hash in the query and in the body differ",
            details={"field": "plan_hash"},
        )
    return query or request.plan_hash
