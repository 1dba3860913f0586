"""External services (seed 000 §2.1–2.9): the registry, live health checks and template operations.

Single-step work, so everything answers synchronously (a health check is bounded by the template's
5 s timeout, an operation by its 30 s). §2.10 (`create_service_database`, a saga) is a job started by
`api/routes/service_databases.py` under the same prefix.

Decisions:
- `secret_refs` (credential role → secret name) must all exist in Secret Manager on create and on an
  update that sends them, else 400 with `details.missing`. `secret_refs` in an update replaces the
  whole mapping.
- Referencing a secret is reading it (`api/logic/provisioning/secret_access.py`): a create or update
  that names `secret_refs`, or an update that changes the `url` of a service with refs, needs the
  `secrets` scope (403 otherwise, nothing stored). Every read of a referenced value (create, update,
  health, details, operations) is audited in `secret_access_audit` as
  `referenced_by_external_service`, naming the service and what for.
- A URL with a password in it is refused (400): the password belongs in a secret (see the schema).
  So is a URL whose scheme the type is not reached with.
- Create runs the seed's initial health check and stores its outcome; an unhealthy service is still
  registered (201, `health_status` and `health_message` say what was found). An update that changes
  `url` or `secret_refs` re-runs the check the same way. `POST /health` stores the live outcome as
  the last check without touching `updated_at`; `GET /details` runs the same live check and returns
  it, but stores nothing: a GET never changes the registry.
- Operations: write scope; `execute_query` (arbitrary SQL/Cypher) needs admin. An inactive service
  answers 409. `create_service_database` is listed among Postgres' operations but runs only as the
  job at `POST /{service_id}/create_service_database`, which keeps the new credentials in Secret
  Manager; asking for it here answers 400 pointing there. Operation results are scrubbed of the
  service's secret values (passwords, keys, tokens of 8+ characters).
- A secret a registered service refers to but that has since disappeared makes an operation answer
  409 (`details.missing`) and a health check report `unhealthy`.
"""

from __future__ import annotations

import uuid
from typing import Annotated

import structlog
from fastapi import Body, Path, Query, Response, status
from sqlalchemy.exc import IntegrityError

from api.auth import Reader, Writer
from api.deps import DbDep, SettingsDep
from api.errors import ApiError, answers, not_found
from api.http import JsonRouter
from api.logic.provisioning import external_services as logic
from api.logic.provisioning.secret_access import external_service_use
from api.schemas.provisioning.external_services import (
    NAME_PATTERN,
    ExternalServiceCreate,
    ExternalServiceCreated,
    ExternalServiceDetails,
    ExternalServiceResponse,
    ExternalServiceSummary,
    ExternalServiceUpdate,
    OperationRequest,
    OperationResult,
)
from providers.service_templates import SUPPORTED_TYPES, HealthCheckResult
from store.provisioning import external_services

router = JsonRouter(
    prefix="/api/v1/external-services",
    tags=["external services"],
    responses=answers(502, 503),
)
log = structlog.get_logger(__name__)

ServiceIdPath = Annotated[uuid.UUID, Path(description="The external service's id (a UUID).")]
ServiceNamePath = Annotated[str, Path(pattern=NAME_PATTERN)]
OperationPath = Annotated[str, Path(min_length=1, max_length=64)]


def _duplicate(name: str) -> ApiError:
    return ApiError(409, f"an external service named {name} already exists", details={"name": name})


# --- registry -------------------------------------------------------------------------------------


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ExternalServiceCreated,
    responses=answers(409),
)
async def create_external_service(
    body: ExternalServiceCreate, principal: Writer, settings: SettingsDep, db: DbDep
) -> ExternalServiceCreated:
    """Naming `secret_refs` needs the `secrets` scope as well (403 otherwise, nothing stored)."""
    refs = {str(role): name for role, name in body.secret_refs.items()}
    use = external_service_use(db, principal, body.name, "create")
    await logic.authorize_refs(None, {"secret_refs": refs}, use)
    async with db.transaction() as session:
        if await external_services.by_name(session, body.name) is not None:
            raise _duplicate(body.name)
    credentials = await logic.credentials_for_request(refs, settings, use)
    health = await logic.health(
        settings,
        use,
        name=body.name,
        service_type=body.type.value,
        url=body.url,
        secret_refs=refs,
        metadata=body.metadata,
        credentials=credentials,
    )
    try:
        async with db.transaction() as session:
            row = await external_services.create(
                session,
                name=body.name,
                service_type=body.type.value,
                url=body.url,
                cloud_console=body.cloud_console,
                metadata=body.metadata,
                secret_refs=refs,
                active=body.active,
                health_status=health.status,
                last_health_check=health.checked_at,
            )
    except IntegrityError:
        raise _duplicate(body.name) from None
    log.info("external service created", service=row.name, type=row.type, health=health.status)
    return ExternalServiceCreated.from_row(row, health_message=health.message)


@router.get("", response_model=list[ExternalServiceSummary])
async def list_external_services(
    _: Reader,
    db: DbDep,
    response: Response,
    type_filter: Annotated[
        str | None, Query(alias="type", max_length=32, description="One of the supported types.")
    ] = None,
    active_only: bool = True,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[ExternalServiceSummary]:
    """The seed's bare array, one page of it by name; `X-Total-Count` says how many match."""
    service_type = None
    if type_filter is not None:
        service_type = type_filter.strip().lower()
        if service_type not in SUPPORTED_TYPES:
            raise ApiError(
                400,
                f"unknown type {type_filter!r:.40}; valid types: {', '.join(logic.VALID_TYPES)}",
                details={"field": "type", "valid_types": logic.VALID_TYPES},
            )
    async with db.transaction() as session:
        rows, total = await external_services.list_services(
            session, service_type=service_type, active_only=active_only, limit=limit, offset=offset
        )
        response.headers["X-Total-Count"] = str(total)
        return [ExternalServiceSummary(id=r.id, name=r.name, type=r.type) for r in rows]


@router.get("/name/{name}", response_model=ExternalServiceResponse)
async def get_external_service_by_name(
    name: ServiceNamePath, _: Reader, db: DbDep
) -> ExternalServiceResponse:
    async with db.transaction() as session:
        row = await external_services.by_name(session, name)
    if row is None:
        raise not_found("external service", name=name)
    return ExternalServiceResponse.from_row(row)


@router.get("/{service_id}", response_model=ExternalServiceResponse)
async def get_external_service(
    service_id: ServiceIdPath, _: Reader, db: DbDep
) -> ExternalServiceResponse:
    return ExternalServiceResponse.from_row(await logic.get_row(db, service_id))


@router.put("/{service_id}", response_model=ExternalServiceResponse)
async def update_external_service(
    service_id: ServiceIdPath,
    body: ExternalServiceUpdate,
    principal: Writer,
    settings: SettingsDep,
    db: DbDep,
) -> ExternalServiceResponse:
    """Sending `secret_refs`, or changing the `url` of a service that has refs, needs the `secrets`
    scope as well: either decides where secret values are sent."""
    changes = body.model_dump(exclude_unset=True)
    current = await logic.get_row(db, service_id)
    if "url" in changes:
        logic.check_url_scheme(current.type, changes["url"])
    if "secret_refs" in changes:
        changes["secret_refs"] = {str(role): n for role, n in changes["secret_refs"].items()}
    use = external_service_use(db, principal, current.name, "update")
    await logic.authorize_refs(current, changes, use)
    credentials = None
    if "secret_refs" in changes:
        credentials = await logic.credentials_for_request(changes["secret_refs"], settings, use)
    reconnect = any(
        field in changes and changes[field] != getattr(current, field)
        for field in ("url", "secret_refs")
    )
    health = None
    if reconnect:
        health = await logic.health(
            settings,
            use,
            name=current.name,
            service_type=current.type,
            url=changes.get("url", current.url),
            secret_refs=changes.get("secret_refs", dict(current.secret_refs or {})),
            metadata=changes.get("metadata", dict(current.service_metadata or {})),
            credentials=credentials,
        )
    async with db.transaction() as session:
        row = await external_services.by_id(session, service_id)
        if row is None:
            raise not_found("external service", service_id=str(service_id))
        row = await external_services.apply_changes(
            session, row, changes, health=(health.status, health.checked_at) if health else None
        )
    log.info(
        "external service updated",
        service=row.name,
        fields=sorted(changes),
        health=health.status if health else None,
    )
    return ExternalServiceResponse.from_row(row)


@router.delete("/{service_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_external_service(service_id: ServiceIdPath, _: Writer, db: DbDep) -> Response:
    """Removes the record only; the service itself (its databases, keys) is left untouched."""
    async with db.transaction() as session:
        removed = await external_services.remove(session, service_id)
    if not removed:
        raise not_found("external service", service_id=str(service_id))
    log.info("external service deleted", service_id=str(service_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- live checks and operations -------------------------------------------------------------------


@router.get("/{service_id}/details", response_model=ExternalServiceDetails)
async def get_external_service_details(
    service_id: ServiceIdPath, principal: Reader, settings: SettingsDep, db: DbDep
) -> ExternalServiceDetails:
    """A live health check, returned and not stored (`POST /health` stores it)."""
    row = await logic.get_row(db, service_id)
    use = external_service_use(db, principal, row.name, "details")
    health = await logic.row_health(row, settings, use)
    return ExternalServiceDetails.from_row(
        row,
        health_status=health.status,
        health_message=health.message,
        health_details=health.details,
        health_checked_at=health.checked_at,
        available_operations=logic.operations_for(row.type),
    )


@router.post("/{service_id}/health", response_model=HealthCheckResult)
async def check_external_service_health(
    service_id: ServiceIdPath, principal: Writer, settings: SettingsDep, db: DbDep
) -> HealthCheckResult:
    row = await logic.get_row(db, service_id)
    use = external_service_use(db, principal, row.name, "health_check")
    health = await logic.row_health(row, settings, use)
    await logic.record_health(db, row, health)
    return health


@router.post(
    "/{service_id}/operations/{operation}", response_model=OperationResult, responses=answers(409)
)
async def execute_external_service_operation(
    service_id: ServiceIdPath,
    operation: OperationPath,
    principal: Writer,
    settings: SettingsDep,
    db: DbDep,
    body: OperationRequest = Body(
        default=None, description='Optional: `{"params": {...}}`; no body means no params.'
    ),
) -> OperationResult:
    row = await logic.get_row(db, service_id)
    params = body.params if body is not None else {}
    use = external_service_use(db, principal, row.name, f"operation:{operation}")
    result = await logic.run_operation(row, operation, params, principal, settings, use)
    log.info("external service operation", service=row.name, operation=operation)
    return OperationResult(service=row.name, operation=operation, result=result)
