"""POST /external-services/{id}/create_service_database (seed 000 §2.10): starts CreateServiceDatabase.

A password given in the request is written to Secret Manager here, under a staging name tied to the
job, before the job starts: the workflow (and so its history) only ever receives that name; the job
deletes it when it ends, whatever the outcome.

The job reads the service's referenced admin credentials on the caller's behalf: a write key may
start it (the refs were accepted from a secrets-scoped key), and the use is audited.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path, status

from api.auth import Writer
from api.deps import JobStarting
from api.errors import answers
from api.http import JsonRouter
from api.job_engine import job_id_for
from api.logic.provisioning import service_databases as logic
from api.logic.provisioning.secret_access import external_service_use
from api.routes.provisioning.params import IdempotencyKey
from api.schemas.jobs import JobResponse
from api.schemas.provisioning.service_databases import ServiceDatabaseCreate
from contracts.jobs import CUSTOMER_LABEL, SERVICE_LABEL, JobSubject
from contracts.provisioning.names import Operations, Workflows
from contracts.provisioning.service_databases import CreateServiceDatabaseInput
from store.provisioning import secret_audit

router = JsonRouter(
    prefix="/api/v1/external-services",
    tags=["external services"],
    responses=answers(409, 502, 503),
)


@router.post(
    "/{service_id}/create_service_database",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobResponse,
)
async def create_service_database(
    service_id: Annotated[uuid.UUID, Path()],
    request: ServiceDatabaseCreate,
    principal: Writer,
    platform: JobStarting,
    idempotency_key: IdempotencyKey = None,
) -> JobResponse:
    service = await logic.postgres_service(platform.db, service_id)
    prefix = await logic.customer_prefix(platform.db, request.customer_id)
    operation = Operations.CREATE_SERVICE_DATABASE
    # Known before the start: the staged password is named after the job that will delete it.
    job_id = job_id_for(operation, idempotency_key, principal)
    use = external_service_use(platform.db, principal, service.name, f"{operation}; job={job_id}")
    await use.record((service.secret_refs or {}).values(), secret_audit.OK)
    staged: str | None = None
    if request.password is not None and not (
        idempotency_key and await platform.jobs.exists(job_id)
    ):
        staged = await logic.stage_password(
            platform.settings, job_id, request.password.get_secret_value()
        )
    body = request.model_dump(mode="json", exclude={"password"})
    body["service_id"] = str(service_id)
    # The hash that guards an Idempotency-Key says whether a password was given, never which.
    body["password_given"] = request.password is not None
    try:
        return await platform.jobs.start(
            Workflows.CREATE_SERVICE_DATABASE,
            CreateServiceDatabaseInput(
                external_service_id=str(service_id),
                db_name=request.db_name,
                service_name=request.service_name,
                customer_prefix=prefix,
                staged_password_secret=staged,
                secrets=logic.secret_plan(request.service_name, prefix),
            ),
            operation=operation,
            subject=JobSubject(kind="database", name=f"{service_id}/{request.db_name}"),
            labels={SERVICE_LABEL: request.service_name, CUSTOMER_LABEL: prefix},
            caller=principal,
            idempotency_key=idempotency_key,
            body=body,
            estimated_time="1 minute",
            job_id=job_id,
        )
    except BaseException:
        if staged:
            await logic.drop_staged_password(platform.settings, staged)
        raise
