"""`/api/v1/runners` (seed 004): ephemeral GitHub Actions runners, each one an EphemeralRunner job
whose id is the runner id. Needs an API key with the `runners` scope; the gateway on :8080 forwards
its clients' calls here."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import Depends, Header, Path, Query, Request, Response, status

from api.auth import RunnersScope
from api.deps import DbDep, JobStarting, SettingsDep, TemporalDep
from api.errors import answers
from api.http import JsonRouter
from api.logic.runners import runners as logic
from api.schemas.runners.runners import (
    CleanupReport,
    RunnerDestroyed,
    RunnerRequest,
    RunnersCreated,
    RunnerStatus,
)

log = structlog.get_logger(__name__)


async def _request_id(request: Request, response: Response) -> None:
    """The gateway's X-Request-ID, logged here too and echoed, so one request reads across both."""
    request_id = request.headers.get("X-Request-ID")
    if request_id and len(request_id) <= 128 and request_id.isprintable():
        response.headers["X-Request-ID"] = request_id
        log.info(
            "runners request", request_id=request_id, method=request.method, path=request.url.path
        )


router = JsonRouter(
    prefix="/api/v1/runners",
    tags=["runners"],
    responses=answers(400, 401, 403, 503),
    dependencies=[Depends(_request_id)],
)

# Any text: an id that is no runner's is a 404 (the seed's "Runner no encontrado"), not a 400.
RunnerId = Annotated[str, Path(max_length=200, description="The runner's id (its job id)")]
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)
]


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RunnersCreated,
    responses=answers(409, 413, 415),
)
async def create_runners(
    request: RunnerRequest,
    principal: RunnersScope,
    platform: JobStarting,
    idempotency_key: IdempotencyKey = None,
) -> RunnersCreated:
    return await logic.create(platform.jobs, platform.settings, principal, request, idempotency_key)


@router.get("", response_model=list[RunnerStatus])
async def list_runners(
    _principal: RunnersScope,
    settings: SettingsDep,
    temporal: TemporalDep,
    db: DbDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[RunnerStatus]:
    """The active runners (their jobs still run), newest first, each with the drift observer's
    last look at its container."""
    return await logic.list_active(temporal, settings, db, limit)


@router.post("/cleanup", response_model=CleanupReport, responses=answers(409, 413, 415, 502))
async def cleanup_runners(
    principal: RunnersScope,
    platform: JobStarting,
    idempotency_key: IdempotencyKey = None,
) -> CleanupReport:
    """Runs RunnerCleanup now (the same job the Schedule runs) and answers what it removed; after
    `runner_cleanup_wait_seconds` it answers `completed: false` with the job's id instead."""
    return await logic.cleanup(
        platform.jobs, platform.temporal, platform.settings, principal, idempotency_key
    )


@router.get("/{runner_id}", response_model=RunnerStatus, responses=answers(404))
async def get_runner(
    runner_id: RunnerId,
    _principal: RunnersScope,
    settings: SettingsDep,
    temporal: TemporalDep,
    db: DbDep,
) -> RunnerStatus:
    """The runner's job state joined with its container's real state, and the drift observer's
    last look at that container (`conditions`, `drift`)."""
    return await logic.get(temporal, settings, db, runner_id)


@router.delete("/{runner_id}", response_model=RunnerDestroyed, responses=answers(404))
async def destroy_runner(
    runner_id: RunnerId, _principal: RunnersScope, settings: SettingsDep, temporal: TemporalDep
) -> RunnerDestroyed:
    """Cancels the runner's job: its container is stopped and removed and its GitHub registration
    deleted. Waits up to `runner_destroy_wait_seconds` for that; `destroyed` says if it is done."""
    return await logic.destroy(temporal, settings, runner_id)
