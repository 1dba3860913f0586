"""`POST /service` (a multipart form with an optional ZIP upload, streamed), `GET /service/{id}`
and `POST /control-service/{id}/{action}`: seed 001's Docker services, `hosting` scope. Changes
answer 202 with a job (CreateDockerService, ControlDockerService)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request, status

from api.auth import HostingScope
from api.deps import DbDep, JobStarting, SettingsDep
from api.errors import DESCRIPTIONS, answers
from api.http import JsonRouter
from api.logic.hosting import services as logic
from api.openapi import documented_schema
from api.routes.provisioning.params import IdempotencyKey
from api.schemas.hosting.services import ServiceCreateForm, ServiceDetail, ServiceJob

router = JsonRouter(tags=["hosting"], responses=answers(400, 401, 403))

ServiceId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The service's id.")]
_NOT_A_FORM = {
    415: {**answers(415)[415], "description": DESCRIPTIONS[415].replace("JSON", "a form")}
}
_FORM = {
    "required": True,
    "content": {"multipart/form-data": {"schema": documented_schema(ServiceCreateForm)}},
}


@router.post(
    "/service",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ServiceJob,
    responses={**answers(409, 413, 502, 503), **_NOT_A_FORM},
    openapi_extra={"requestBody": _FORM},
)
async def create_service(
    request: Request,
    principal: HostingScope,
    platform: JobStarting,
    idempotency_key: IdempotencyKey = None,
) -> ServiceJob:
    """Creates a Docker service from a ZIP (`zip_file`, up to `hosting_upload_max_bytes`), a git
    repository over HTTPS (`git_repo_url`) or nothing: one container per type, plus Filebrowser
    when `admin_pass` is given. 409 `service_exists` when the user has a service of that name."""
    return await logic.create(request, platform, principal, idempotency_key)


@router.get("/service/{service_id}", response_model=ServiceDetail, responses=answers(404, 502))
async def get_service(
    service_id: ServiceId, _: HostingScope, settings: SettingsDep, db: DbDep
) -> ServiceDetail:
    """The service with its containers' live state and its Compose file."""
    return await logic.detail(settings, db, service_id)


@router.post(
    "/control-service/{service_id}/{action}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ServiceJob,
    responses=answers(404, 502, 503),
)
async def control_service(
    service_id: ServiceId,
    action: Annotated[
        str,
        Path(
            max_length=16,
            description="`start`, `shutdown` (or `stop`), `restart` or `delete`.",
        ),
    ],
    principal: HostingScope,
    platform: JobStarting,
    idempotency_key: IdempotencyKey = None,
) -> ServiceJob:
    return await logic.control(platform, principal, service_id, action, idempotency_key)
