"""Cloud Run services (seed 000 §1.1–1.7, §1.9, §1.10): reads answer now, changes start jobs.

A deploy or update whose body mounts secrets (`secrets`: env var → secret name) makes Cloud Run read
them for the service: it needs the `secrets` scope as well (403 before any job starts), and each
referenced secret is audited as `referenced_by_deployment` with the service and the job id.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import Query, Response, status
from fastapi.responses import JSONResponse

from api.auth import Reader, Writer
from api.cloud import call_cloud
from api.deps import DbDep, JobStarting, SettingsDep
from api.errors import ApiError, answers
from api.http import JsonRouter
from api.logic.provisioning import service_views as views
from api.logic.provisioning import services as logic
from api.routes.provisioning.params import (
    DryRunQuery,
    IdempotencyKey,
    PlanHashQuery,
    RegionQuery,
    ServiceNamePath,
)
from api.schemas.jobs import JobResponse
from api.schemas.provisioning.services import (
    LogEntry,
    ServiceCategory,
    ServiceDeployRequest,
    ServiceDetails,
    ServiceInfo,
    ServiceList,
    ServiceLogs,
    ServicePlan,
    ServiceStatus,
    ServiceSummary,
    ServiceUpdateRequest,
)
from contracts.jobs import CUSTOMER_LABEL, SERVICE_LABEL, JobSubject
from contracts.provisioning.drift import ReconcileServiceInput
from contracts.provisioning.names import Operations, Workflows
from contracts.provisioning.services import (
    DeployServiceInput,
    UndeployServiceInput,
)
from providers.google import cloud_logging
from providers.google.cloud_run import CloudRunServices

router = JsonRouter(prefix="/api/v1/services", tags=["services"], responses=answers(502, 503))

DEPLOY_ESTIMATE = "2-3 minutes"
# `?dry_run=true`: 200 with the plan instead of 202 with a job.
PLANNED = {
    200: {
        "model": ServicePlan,
        "description": "With `dry_run=true`: what the request would change; no job starts.",
    }
}


def _subject(service_name: str) -> JobSubject:
    return JobSubject(kind="service", name=service_name)


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
        known = await logic.registry_index(db)
        cloud_run = CloudRunServices(settings)
        for service in await call_cloud("listing services", cloud_run.list, region):
            record, owner, state = known.get(views.short_name(service.name), (None, None, None))
            items.append(views.summary(service, record, owner, state))
    else:
        # External services appear when asked for by category, as the seed's registry does.
        items += await logic.external_summaries(db)
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


def _planned(plan: ServicePlan) -> JSONResponse:
    return JSONResponse(plan.model_dump(mode="json"), status_code=status.HTTP_200_OK)


@router.post(
    "/deploy",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobResponse,
    responses=PLANNED,
)
async def deploy_service(
    request: ServiceDeployRequest,
    principal: Writer,
    platform: JobStarting,
    idempotency_key: IdempotencyKey = None,
    dry_run: DryRunQuery = False,
    plan_hash: PlanHashQuery = None,
) -> JobResponse | JSONResponse:
    prefix = await logic.named_customer(platform.db, request.customer)
    region = request.region or platform.settings.gcp_region
    if dry_run:
        return _planned(
            await logic.plan(
                platform.settings, platform.db, principal, request, region, update=False
            )
        )
    plan_hash = logic.plan_hash_of(request, plan_hash)
    job_id = await logic.authorize_mounted_secrets(
        platform.db, principal, request, Operations.DEPLOY, idempotency_key
    )
    return await platform.jobs.start(
        Workflows.DEPLOY_SERVICE,
        DeployServiceInput(
            spec=request.spec(),
            operation=Operations.DEPLOY,
            region=region,
            customer_prefix=prefix,
            plan_hash=plan_hash,
        ),
        operation=Operations.DEPLOY,
        subject=_subject(request.service_name),
        labels={SERVICE_LABEL: request.service_name, CUSTOMER_LABEL: prefix},
        caller=principal,
        idempotency_key=idempotency_key,
        body=request.model_dump(mode="json"),
        estimated_time=DEPLOY_ESTIMATE,
        job_id=job_id,
    )


@router.get("/{service_name}", response_model=ServiceInfo)
async def get_service(
    service_name: ServiceNamePath,
    _: Reader,
    settings: SettingsDep,
    db: DbDep,
    region: RegionQuery = None,
) -> ServiceInfo:
    return views.info(*await logic.service_with_owner(settings, db, service_name, region))


@router.get("/{service_name}/details", response_model=ServiceDetails)
async def get_service_details(
    service_name: ServiceNamePath,
    _: Reader,
    settings: SettingsDep,
    db: DbDep,
    region: RegionQuery = None,
) -> ServiceDetails:
    return views.details(*await logic.service_with_owner(settings, db, service_name, region))


@router.get("/{service_name}/status", response_model=ServiceStatus)
async def get_service_status(
    service_name: ServiceNamePath, _: Reader, settings: SettingsDep, region: RegionQuery = None
) -> ServiceStatus:
    return views.status(await logic.cloud_run_service(settings, service_name, region))


@router.get("/{service_name}/logs", response_model=ServiceLogs)
async def get_service_logs(
    service_name: ServiceNamePath,
    _: Reader,
    settings: SettingsDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    region: RegionQuery = None,
) -> ServiceLogs:
    region = region or settings.gcp_region
    lines = await call_cloud(
        f"reading logs of {service_name}",
        cloud_logging.service_logs,
        settings,
        service_name,
        region or settings.gcp_region,
        limit,
    )
    logs = [LogEntry(**asdict(line)) for line in lines]
    return ServiceLogs(service_name=service_name, total=len(logs), logs=logs)


@router.put(
    "/{service_name}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobResponse,
    responses=PLANNED,
)
async def update_service(
    service_name: ServiceNamePath,
    request: ServiceUpdateRequest,
    principal: Writer,
    platform: JobStarting,
    idempotency_key: IdempotencyKey = None,
    dry_run: DryRunQuery = False,
    plan_hash: PlanHashQuery = None,
) -> JobResponse | JSONResponse:
    if request.service_name != service_name:
        raise ApiError(
            400,
            "the service name in the path and in the body differ",
            details={"path": service_name, "body": request.service_name},
        )
    region = request.region or platform.settings.gcp_region
    if dry_run:
        return _planned(
            await logic.plan(
                platform.settings, platform.db, principal, request, region, update=True
            )
        )
    plan_hash = logic.plan_hash_of(request, plan_hash)
    await logic.cloud_run_service(platform.settings, service_name, region)
    job_id = await logic.authorize_mounted_secrets(
        platform.db, principal, request, Operations.UPDATE, idempotency_key
    )
    return await platform.jobs.start(
        Workflows.DEPLOY_SERVICE,
        DeployServiceInput(
            spec=request.spec(), operation=Operations.UPDATE, region=region, plan_hash=plan_hash
        ),
        operation=Operations.UPDATE,
        subject=_subject(service_name),
        labels={SERVICE_LABEL: service_name},
        caller=principal,
        idempotency_key=idempotency_key,
        body=request.model_dump(mode="json", exclude_unset=True),
        estimated_time=DEPLOY_ESTIMATE,
        job_id=job_id,
    )


@router.delete("/{service_name}", status_code=status.HTTP_202_ACCEPTED, response_model=JobResponse)
async def undeploy_service(
    service_name: ServiceNamePath,
    principal: Writer,
    platform: JobStarting,
    region: RegionQuery = None,
    idempotency_key: IdempotencyKey = None,
) -> JobResponse:
    region = region or platform.settings.gcp_region
    await logic.cloud_run_service(platform.settings, service_name, region)
    return await platform.jobs.start(
        Workflows.UNDEPLOY_SERVICE,
        UndeployServiceInput(service_name=service_name, region=region),
        operation=Operations.UNDEPLOY,
        subject=_subject(service_name),
        labels={SERVICE_LABEL: service_name},
        caller=principal,
        idempotency_key=idempotency_key,
        body={"service_name": service_name, "region": region},
        estimated_time="1 minute",
    )


@router.post(
    "/{service_name}/reconcile",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobResponse,
    responses=answers(409),
)
async def reconcile_service(
    service_name: ServiceNamePath,
    principal: Writer,
    platform: JobStarting,
    region: RegionQuery = None,
    idempotency_key: IdempotencyKey = None,
) -> JobResponse:
    """Puts back the configuration the platform last applied (a deploy's or update's), undoing
    what was changed outside it; queued behind the service's other jobs like an update. Only a
    service the platform deployed and that carries its mark (else 404 / 409)."""
    region = await logic.reconcilable(platform.settings, platform.db, service_name, region)
    return await platform.jobs.start(
        Workflows.RECONCILE_SERVICE,
        ReconcileServiceInput(service_name=service_name, region=region),
        operation=Operations.RECONCILE,
        subject=_subject(service_name),
        labels={SERVICE_LABEL: service_name},
        caller=principal,
        idempotency_key=idempotency_key,
        body={"service_name": service_name, "region": region},
        estimated_time="1-2 minutes",
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
    await logic.force_delete(settings, db, service_name, region)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
