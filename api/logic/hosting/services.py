"""Hosted Docker services behind the router: the create (form read and checked, the archive checked,
the row added, the password hashed, the job started — and on any refusal nothing left behind), the
control actions, and the details (the row joined with what the Docker daemon reports now)."""

from __future__ import annotations

import asyncio
from typing import Any

import bcrypt
import structlog
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.requests import Request

from api.auth import Principal
from api.deps import PlatformState
from api.errors import ApiError, not_found
from api.job_engine import job_id_for
from api.logic.hosting.service_form import FILE_FIELD, ServiceForm, read_form
from api.schemas.hosting.services import ContainerState, ServiceCreate, ServiceDetail, ServiceJob
from contracts.hosting.services import (
    ACTION_ALIASES,
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    SERVICE_ID_LABEL,
    SUBJECT_KIND,
    USER_LABEL,
    ControlDockerServiceInput,
    CreateDockerServiceInput,
    Operations,
    ServiceSource,
    Workflows,
    git_repository,
)
from contracts.jobs import SERVICE_LABEL, JobSubject
from contracts.provisioning.drift import DOCKER_SERVICE_KIND
from core.settings import Settings
from providers import docker_engine, zip_archive
from store.db import Database
from store.hosting import services as store
from store.oversight import resource_states

log = structlog.get_logger(__name__)
ACTIONS = ("start", "shutdown", "stop", "restart", "delete")
_TEXT_FIELDS = {"userid", "service_name", "primary_app_type", "git_repo_url", "admin_pass"}


def _subject(service_id: int) -> JobSubject:
    return JobSubject(kind=SUBJECT_KIND, name=str(service_id))


def _validated(form: ServiceForm) -> ServiceCreate:
    unknown = sorted(set(form.fields) - _TEXT_FIELDS - {"service_types"})
    if unknown:
        raise RequestValidationError(
            [{"loc": ("body", unknown[0]), "msg": "unknown form field", "type": "extra_forbidden"}]
        )
    values: dict[str, Any] = {k: v[0] for k, v in form.fields.items() if k in _TEXT_FIELDS}
    # Empty optional fields are as good as absent (an HTML form sends them so).
    for key in ("primary_app_type", "git_repo_url", "admin_pass"):
        if values.get(key) == "":
            del values[key]
    values["service_types"] = [
        t.strip() for item in form.fields.get("service_types", []) for t in item.split(",")
    ]
    values["has_zip"] = form.upload is not None
    try:
        return ServiceCreate.model_validate(values)
    except ValidationError as error:
        raise RequestValidationError(error.errors(include_input=False)) from None


def _archive_limits(settings: Settings) -> zip_archive.ZipLimits:
    return zip_archive.ZipLimits(
        max_entries=settings.hosting_zip_max_entries,
        max_bytes=settings.hosting_zip_max_bytes,
        max_ratio=settings.hosting_zip_max_ratio,
    )


def hash_password(password: str, rounds: int) -> str:
    """bcrypt (`$2b$`, cost `rounds`: `hosting_filebrowser_password_rounds`), which Filebrowser
    takes as its `--password`; the password itself goes no further. The form allows at most 72
    UTF-8 bytes, all that bcrypt reads."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds)).decode()


async def create(
    request: Request, platform: PlatformState, principal: Principal, idempotency_key: str | None
) -> ServiceJob:
    settings = platform.settings
    form = await read_form(
        request, settings.resolved_hosting_uploads_dir, settings.hosting_upload_max_bytes
    )
    row_id: int | None = None
    try:
        if form.upload is not None and form.upload_bytes == 0:
            form.discard()  # a form's empty file input: no file chosen
        body = _validated(form)
        if body.git_repo_url is not None:
            try:
                git_repository(body.git_repo_url, settings.hosting_git_hosts)
            except ValueError as error:
                raise _field_error("git_repo_url", f"git_repo_url {error}") from None
        if form.upload is not None:
            try:
                await asyncio.to_thread(zip_archive.inspect, form.upload, _archive_limits(settings))
            except zip_archive.ArchiveRefused as error:
                raise ApiError(
                    400,
                    f"the ZIP archive was refused: {error}",
                    code="invalid_archive",
                    details={"field": FILE_FIELD},
                ) from None
        job_id = job_id_for(Operations.CREATE, idempotency_key, principal)
        # What a repeated Idempotency-Key is compared on: the fields and the archive's digest,
        # never the password (nor its salted hash).
        request_body = {
            **body.model_dump(mode="json", exclude={"admin_pass", "has_zip"}),
            "filebrowser": body.admin_pass is not None,
            "zip_sha256": form.upload_sha256,
        }
        if form.upload is not None:
            source = ServiceSource(kind="zip", upload_name=form.upload.name)
        elif body.git_repo_url is not None:
            source = ServiceSource(kind="git", git_url=body.git_repo_url)
        else:
            source = ServiceSource(kind="none")
        if idempotency_key and await platform.jobs.exists(job_id):
            # A repeated request: its job has its own upload and row already.
            form.discard()
            service_id = await _service_of_job(platform.db, job_id)
            return await _start_create(
                platform,
                principal,
                idempotency_key,
                job_id,
                body,
                source,
                request_body,
                service_id,
                None,
            )
        # The row first: an unknown user or a taken name is refused before the hash's CPU
        # (~0.3 s at cost 12) is spent on it.
        row_id = await _add_row(platform.db, body, job_id)
        password_hash = (
            await asyncio.to_thread(
                hash_password, body.admin_pass, settings.hosting_filebrowser_password_rounds
            )
            if body.admin_pass
            else None
        )
        return await _start_create(
            platform,
            principal,
            idempotency_key,
            job_id,
            body,
            source,
            request_body,
            row_id,
            password_hash,
        )
    except BaseException:
        form.discard()
        if row_id is not None:
            async with platform.db.transaction() as session:
                await store.remove(session, row_id)
        raise


def _field_error(field: str, message: str) -> ApiError:
    return ApiError(
        400,
        f"invalid request: {field}",
        code="validation_error",
        details={"fields": [{"field": field, "message": message}]},
    )


async def _add_row(db: Database, body: ServiceCreate, job_id: str) -> int:
    try:
        async with db.transaction() as session:
            row = await store.create(
                session,
                userid=body.userid,
                service_name=body.service_name,
                service_types=list(body.service_types),
                primary_app_type=body.primary_app_type or body.service_types[0],
                job_id=job_id,
            )
            return row.id
    except store.UnknownUser:
        raise _field_error("userid", f"no hosting user {body.userid}") from None
    except store.NameTaken:
        raise ApiError(
            409,
            f"user {body.userid} has a service named {body.service_name} already",
            code="service_exists",
            details={"userid": body.userid, "service_name": body.service_name},
        ) from None


async def _start_create(
    platform: PlatformState,
    principal: Principal,
    idempotency_key: str | None,
    job_id: str,
    body: ServiceCreate,
    source: ServiceSource,
    request_body: dict[str, Any],
    service_id: int,
    password_hash: str | None,
) -> ServiceJob:
    answer = await platform.jobs.start(
        Workflows.CREATE_DOCKER_SERVICE,
        CreateDockerServiceInput(
            # A repeated request whose job's row is gone: the input is not used (the job exists).
            service_id=max(service_id, 1),
            userid=body.userid,
            service_name=body.service_name,
            service_types=list(body.service_types),
            primary_app_type=body.primary_app_type or body.service_types[0],
            source=source,
            filebrowser_password_hash=password_hash,
            health_timeout_seconds=platform.settings.hosting_health_timeout_seconds,
        ),
        operation=Operations.CREATE,
        subject=_subject(max(service_id, 1)),
        labels={SERVICE_LABEL: body.service_name},
        caller=principal,
        idempotency_key=idempotency_key,
        body=request_body,
        estimated_time="1-2 minutes",
        job_id=job_id,
    )
    return ServiceJob(**answer.model_dump(), service_id=service_id)


async def _service_of_job(db: Database, job_id: str) -> int:
    async with db.transaction() as session:
        return await store.id_of_job(session, job_id) or 0


async def control(
    platform: PlatformState,
    principal: Principal,
    service_id: int,
    action: str,
    idempotency_key: str | None,
) -> ServiceJob:
    if action not in ACTIONS:
        raise ApiError(
            400,
            f"unknown action {action!r}: one of {', '.join(ACTIONS)}",
            details={"action": action, "allowed": list(ACTIONS)},
        )
    action = ACTION_ALIASES.get(action, action)
    async with platform.db.transaction() as session:
        row = await store.get(session, service_id)
        if row is None:
            raise not_found("service", service_id=service_id)
        userid, name, owner_job = row.userid, row.service_name, row.job_id or ""
    answer = await platform.jobs.start(
        Workflows.CONTROL_DOCKER_SERVICE,
        ControlDockerServiceInput(
            service_id=service_id,
            userid=userid,
            service_name=name,
            owner_job_id=owner_job,
            action=action,
            health_timeout_seconds=platform.settings.hosting_health_timeout_seconds,
        ),
        operation=Operations.CONTROL,
        subject=_subject(service_id),
        labels={SERVICE_LABEL: name},
        caller=principal,
        idempotency_key=idempotency_key,
        body={"service_id": service_id, "action": action},
        estimated_time="30 seconds",
    )
    return ServiceJob(**answer.model_dump(), service_id=service_id)


async def detail(settings: Settings, db: Database, service_id: int) -> ServiceDetail:
    async with db.transaction() as session:
        row = await store.get(session, service_id)
        if row is None:
            raise not_found("service", service_id=service_id)
        values = {
            "id": row.id,
            "userid": row.userid,
            "service_name": row.service_name,
            "service_types": list(row.service_types or []),
            "primary_app_type": row.primary_app_type,
            "status": row.status,
            "access_url": row.access_url,
            "access_urls": dict(row.access_urls or {}),
            "job_id": row.job_id,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
            "compose_file": row.compose_file,
        }
        state = await resource_states.get(session, DOCKER_SERVICE_KIND, str(service_id))
        if state is not None and state.observed_at is not None:
            values |= {
                "conditions": state.conditions,
                "drift": state.drift,
                "observed_at": state.observed_at,
            }
    containers = await asyncio.to_thread(_live_containers, settings, service_id, row.userid)
    return ServiceDetail(**values, containers=containers)


def _live_containers(settings: Settings, service_id: int, userid: str) -> list[ContainerState]:
    filters = {
        "label": [
            f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}",
            f"{SERVICE_ID_LABEL}={service_id}",
            f"{USER_LABEL}={userid}",
        ]
    }
    try:
        with docker_engine.as_temporal_failures("reading the service's containers"):
            docker = docker_engine.client(settings)
            items = docker.api.containers(all=True, filters=filters)
            states = []
            for item in items:
                attrs = docker.api.inspect_container(item["Id"])
                ports = [
                    f"{binding.get('HostPort')}->{port}"
                    for port, bindings in (
                        (attrs.get("NetworkSettings") or {}).get("Ports") or {}
                    ).items()
                    for binding in bindings or []
                ]
                states.append(
                    ContainerState(
                        name=attrs["Name"].lstrip("/"),
                        service=(item.get("Labels") or {}).get("com.docker.compose.service"),
                        image=item.get("Image"),
                        state=(attrs.get("State") or {}).get("Status", "unknown"),
                        health=((attrs.get("State") or {}).get("Health") or {}).get("Status"),
                        ports=ports,
                    )
                )
            return states
    except Exception as error:  # the Docker daemon's trouble is a 502, never a 500
        message = getattr(error, "message", None) or "the Docker daemon did not answer"
        raise ApiError(502, message, details={"upstream": "docker"}) from None
