"""Cloud Run services (seed 000 §1.1–1.7, §1.9, §1.10): reads answer now, changes start jobs."""

from __future__ import annotations

import asyncio
from typing import Annotated

import structlog
from fastapi import APIRouter, Header, Path, Query, Response, status
from google.api_core import exceptions as gexc
from google.cloud import logging as cloud_logging

from activities.provisioning.cloud_run import CloudRunReader
from api.auth import Reader, Writer
from api.cloud import call_cloud
from api.deps import DbDep, SettingsDep, TemporalDep
from api.errors import ApiError, not_found
from api.job_engine import JobEngine
from api.logic.provisioning import service_views as views
from api.schemas.jobs import JobResponse
from api.schemas.provisioning.services import (
    REGION_PATTERN,
    LogEntry,
    ServiceCategory,
    ServiceDeployRequest,
    ServiceDetails,
    ServiceInfo,
    ServiceList,
    ServiceLogs,
    ServiceStatus,
    ServiceSummary,
    ServiceUpdateRequest,
)
from contracts.provisioning.services import (
    SERVICE_NAME_PATTERN,
    DeployServiceInput,
    UndeployServiceInput,
)
from providers.google.clients import cloud_logging_client
from store.provisioning import customers, external_services
from store.provisioning import service_registry as registry
from store.provisioning.models import Customer, ServiceRecord

router = APIRouter(prefix="/api/v1/services", tags=["services"])
log = structlog.get_logger(__name__)

ServiceNamePath = Annotated[str, Path(pattern=SERVICE_NAME_PATTERN, max_length=49)]
RegionQuery = Annotated[str | None, Query(pattern=REGION_PATTERN)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Repeat a request with the same key to get the same job back.",
    ),
]
DEPLOY_ESTIMATE = "2-3 minutes"


async def _registry(db: DbDep) -> dict[str, tuple[ServiceRecord, Customer | None]]:
    async with db.transaction() as session:
        rows = await registry.all_with_customers(session)
    return {record.name: (record, customer) for record, customer in rows}


async def _named_customer(db: DbDep, requested: str | None) -> str | None:
    """A customer named in the request must exist. Otherwise the job finds the customer from the
    service name itself, so a deploy costs the API no database read."""
    if requested is None:
        return None
    async with db.transaction() as session:
        if await customers.by_prefix(session, requested) is None:
            raise ApiError(400, f"unknown customer '{requested}'", details={"field": "customer"})
    return requested


async def _get_service(settings: SettingsDep, name: str, region: str | None):
    reader = CloudRunReader(settings)
    service = await call_cloud(f"reading service {name}", reader.get, name, region)
    if service is None:
        raise not_found("service", service_name=name)
    return service


@router.get("", response_model=ServiceList)
async def list_services(
    _: Reader,
    settings: SettingsDep,
    db: DbDep,
    status_filter: Annotated[str | None, Query(alias="status", max_length=32)] = None,
    type_filter: Annotated[str | None, Query(alias="type", max_length=32)] = None,
    category: ServiceCategory | None = None,
    customer: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    region: RegionQuery = None,
) -> ServiceList:
    items: list[ServiceSummary] = []
    if category != ServiceCategory.external:
        known = await _registry(db)
        reader = CloudRunReader(settings)
        for service in await call_cloud("listing services", reader.list, region):
            record, owner = known.get(views.short_name(service.name), (None, None))
            items.append(views.summary(service, record, owner))
    else:
        # External services appear when asked for by category, as the seed's registry does.
        items += await _external_summaries(db)
    if category:
        items = [s for s in items if s.category == category]
    if customer:
        items = [s for s in items if s.customer == customer]
    if status_filter:
        items = [s for s in items if s.status.lower() == status_filter.lower()]
    if type_filter:
        items = [s for s in items if s.type.lower() == type_filter.lower()]
    items.sort(key=lambda s: s.name)
    return ServiceList(
        services=items[offset : offset + limit], total=len(items), limit=limit, offset=offset
    )


async def _external_summaries(db: DbDep) -> list[ServiceSummary]:
    async with db.transaction() as session:
        rows = await external_services.list_services(session, active_only=False)
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


@router.post("/deploy", status_code=status.HTTP_202_ACCEPTED, response_model=JobResponse)
async def deploy_service(
    request: ServiceDeployRequest,
    _: Writer,
    settings: SettingsDep,
    db: DbDep,
    temporal: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> JobResponse:
    prefix = await _named_customer(db, request.customer)
    region = request.region or settings.gcp_region
    return await JobEngine(temporal, settings).start(
        "DeployService",
        DeployServiceInput(
            spec=request.spec(), operation="deploy", region=region, customer_prefix=prefix
        ),
        operation="deploy",
        service_name=request.service_name,
        customer_prefix=prefix,
        idempotency_key=idempotency_key,
        body=request.model_dump(mode="json"),
        estimated_time=DEPLOY_ESTIMATE,
    )


async def _service_with_owner(settings: SettingsDep, db: DbDep, name: str, region: str | None):
    service = await _get_service(settings, name, region)
    async with db.transaction() as session:
        record, owner = await registry.with_customer(session, name)
    return service, record, owner


@router.get("/{service_name}", response_model=ServiceInfo)
async def get_service(
    service_name: ServiceNamePath,
    _: Reader,
    settings: SettingsDep,
    db: DbDep,
    region: RegionQuery = None,
) -> ServiceInfo:
    return views.info(*await _service_with_owner(settings, db, service_name, region))


@router.get("/{service_name}/details", response_model=ServiceDetails)
async def get_service_details(
    service_name: ServiceNamePath,
    _: Reader,
    settings: SettingsDep,
    db: DbDep,
    region: RegionQuery = None,
) -> ServiceDetails:
    return views.details(*await _service_with_owner(settings, db, service_name, region))


@router.get("/{service_name}/status", response_model=ServiceStatus)
async def get_service_status(
    service_name: ServiceNamePath, _: Reader, settings: SettingsDep, region: RegionQuery = None
) -> ServiceStatus:
    return views.status(await _get_service(settings, service_name, region))


@router.get("/{service_name}/logs", response_model=ServiceLogs)
async def get_service_logs(
    service_name: ServiceNamePath,
    _: Reader,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    region: RegionQuery = None,
) -> ServiceLogs:
    region = region or settings.gcp_region
    log_filter = (
        'resource.type="cloud_run_revision" AND '
        f'resource.labels.service_name="{service_name}" AND '
        f'resource.labels.location="{region}"'
    )

    def read() -> list[LogEntry]:
        client = cloud_logging_client(settings)
        entries = client.list_entries(
            resource_names=[f"projects/{settings.gcp_project}"],
            filter_=log_filter,
            order_by=cloud_logging.DESCENDING,
            max_results=limit,
            page_size=limit,
        )
        return [_log_entry(entry) for entry in entries]

    logs = await call_cloud(f"reading logs of {service_name}", read)
    return ServiceLogs(service_name=service_name, total=len(logs), logs=logs)


def _log_entry(entry) -> LogEntry:
    payload = entry.payload
    if isinstance(payload, dict):
        message = payload.get("message") or str(payload)
    else:
        message = "" if payload is None else str(payload)
    resource = (
        {"type": entry.resource.type, "labels": dict(entry.resource.labels or {})}
        if entry.resource
        else {}
    )
    return LogEntry(
        timestamp=entry.timestamp,
        severity=entry.severity or "DEFAULT",
        message=message,
        resource=resource,
    )


@router.put("/{service_name}", status_code=status.HTTP_202_ACCEPTED, response_model=JobResponse)
async def update_service(
    service_name: ServiceNamePath,
    request: ServiceUpdateRequest,
    _: Writer,
    settings: SettingsDep,
    temporal: TemporalDep,
    idempotency_key: IdempotencyKey = None,
) -> JobResponse:
    if request.service_name != service_name:
        raise ApiError(
            400,
            "the service name in the path and in the body differ",
            details={"path": service_name, "body": request.service_name},
        )
    region = request.region or settings.gcp_region
    await _get_service(settings, service_name, region)
    return await JobEngine(temporal, settings).start(
        "DeployService",
        DeployServiceInput(spec=request.spec(), operation="update", region=region),
        operation="update",
        service_name=service_name,
        customer_prefix=None,
        idempotency_key=idempotency_key,
        body=request.model_dump(mode="json", exclude_unset=True),
        estimated_time=DEPLOY_ESTIMATE,
    )


@router.delete("/{service_name}", status_code=status.HTTP_202_ACCEPTED, response_model=JobResponse)
async def undeploy_service(
    service_name: ServiceNamePath,
    _: Writer,
    settings: SettingsDep,
    temporal: TemporalDep,
    region: RegionQuery = None,
    idempotency_key: IdempotencyKey = None,
) -> JobResponse:
    region = region or settings.gcp_region
    await _get_service(settings, service_name, region)
    return await JobEngine(temporal, settings).start(
        "UndeployService",
        UndeployServiceInput(service_name=service_name, region=region),
        operation="undeploy",
        service_name=service_name,
        customer_prefix=None,
        idempotency_key=idempotency_key,
        body={"service_name": service_name, "region": region},
        estimated_time="1 minute",
    )


@router.delete("/{service_name}/force", status_code=status.HTTP_204_NO_CONTENT)
async def force_delete_service(
    service_name: ServiceNamePath,
    _: Writer,
    settings: SettingsDep,
    db: DbDep,
    region: RegionQuery = None,
) -> Response:
    """Deletes without a job and without checks; always 204. The outcome is logged."""
    reader = CloudRunReader(settings)

    def delete() -> str:
        try:
            operation = reader.client.delete_service(
                name=reader.path(service_name, region), retry=None
            )
            operation.result(timeout=120)
            return "deleted"
        except gexc.NotFound:
            return "not_found"
        except Exception as error:  # force delete never fails the caller, it reports in the log
            return f"error: {type(error).__name__}: {getattr(error, 'message', error)}"

    outcome = await asyncio.to_thread(delete)
    async with db.transaction() as session:
        removed = await registry.remove(session, service_name)
    log.info("force delete", service_name=service_name, outcome=outcome, registry_removed=removed)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
