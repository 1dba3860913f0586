"""`/api/v1/customers` (seed 000 §3): reads and the partial update answer now; creating a customer
starts one OnboardCustomer job (its provisionings are child jobs) and deleting one starts
OffboardCustomer."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path, Query, Response, status

from api.auth import Reader, Writer
from api.deps import DbDep, JobStarting, SettingsDep
from api.errors import answers
from api.http import JsonRouter
from api.logic.provisioning import customers as logic
from api.routes.provisioning.params import IdempotencyKey
from api.schemas.jobs import JobResponse
from api.schemas.provisioning.customers import (
    CustomerCreate,
    CustomerCreated,
    CustomerPortal,
    CustomerResponse,
    CustomerServices,
    CustomerUpdate,
)
from contracts.provisioning.customers import PREFIX_PATTERN

router = JsonRouter(
    prefix="/api/v1/customers", tags=["customers"], responses=answers(400, 401, 403, 503)
)

CustomerId = Annotated[uuid.UUID, Path(description="The customer's id (a UUID).")]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CustomerCreated,
    responses=answers(409, 413, 415),
)
async def create_customer(
    request: CustomerCreate,
    principal: Writer,
    platform: JobStarting,
    idempotency_key: IdempotencyKey = None,
) -> CustomerCreated:
    """Writes the customer, then starts OnboardCustomer: each provisioning asked for runs as its
    child job; `provisioning` in the record follows them (pending, ready or failed + reason)."""
    return await logic.create(platform.db, platform.jobs, principal, request, idempotency_key)


@router.get("", response_model=list[CustomerResponse])
async def list_customers(
    _: Reader, db: DbDep, active_only: Annotated[bool, Query()] = False
) -> list[CustomerResponse]:
    return await logic.listing(db, active_only)


@router.get("/prefix/{prefix}", response_model=CustomerResponse, responses=answers(404))
async def get_customer_by_prefix(
    prefix: Annotated[str, Path(pattern=PREFIX_PATTERN, max_length=20)], _: Reader, db: DbDep
) -> CustomerResponse:
    return await logic.by_prefix(db, prefix)


@router.get("/{customer_id}", response_model=CustomerResponse, responses=answers(404))
async def get_customer(customer_id: CustomerId, _: Reader, db: DbDep) -> CustomerResponse:
    return await logic.get(db, customer_id)


@router.get("/{customer_id}/portal", response_model=CustomerPortal, responses=answers(404))
async def get_customer_portal(
    customer_id: CustomerId, _: Reader, db: DbDep, settings: SettingsDep
) -> CustomerPortal:
    """The Jira Service Management portal; 404 when the customer has none."""
    return await logic.portal(db, settings, customer_id)


@router.get("/{customer_id}/services", response_model=CustomerServices, responses=answers(404))
async def get_customer_services(customer_id: CustomerId, _: Reader, db: DbDep) -> CustomerServices:
    """The platform registry's services of this customer."""
    return await logic.services(db, customer_id)


@router.put(
    "/{customer_id}",
    response_model=CustomerResponse,
    responses=answers(404, 409, 413, 415, 502),
)
async def update_customer(
    customer_id: CustomerId,
    request: CustomerUpdate,
    principal: Writer,
    db: DbDep,
    settings: SettingsDep,
) -> CustomerResponse:
    """Changes only the fields sent (§3.7). A reference must name something that exists; naming a
    secret needs the `secrets` scope. Offboarding deletes only what carries the customer's mark."""
    return await logic.update(db, settings, principal, customer_id, request)


@router.delete(
    "/{customer_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        202: {"model": JobResponse, "description": "Offboarding still runs: follow the job."},
        **answers(404, 409),
    },
)
async def delete_customer(
    customer_id: CustomerId,
    principal: Writer,
    platform: JobStarting,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Starts OffboardCustomer (Jira, LiteLLM, ZenML, agents, every secret, then the record). 204
    when it completes within `customer_offboard_wait_seconds` (20 s by default), else 202 with
    the job."""
    job = await logic.offboard(platform.db, platform.jobs, principal, customer_id, idempotency_key)
    if job is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    return Response(
        content=job.model_dump_json(),
        status_code=status.HTTP_202_ACCEPTED,
        media_type="application/json",
    )
