"""Customers behind the router: the record written before its OnboardCustomer job starts, reads,
the partial update, and the offboarding that answers 204 when it ends within the documented wait."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from temporalio.client import WorkflowFailureError

from api.auth import Principal
from api.errors import ApiError, not_found
from api.job_engine import JobEngine, job_id_for
from api.logic.provisioning import customer_prefixes as prefixes
from api.logic.provisioning import customer_references as references
from api.schemas.jobs import JobResponse, JobStatus
from api.schemas.provisioning.customers import (
    CustomerCreate,
    CustomerCreated,
    CustomerPortal,
    CustomerResponse,
    CustomerService,
    CustomerServices,
    CustomerUpdate,
    ProvisioningJob,
    ProvisioningJobs,
    Provisionings,
    ProvisioningStatus,
)
from contracts.jobs import CUSTOMER_LABEL, JobSubject
from contracts.provisioning.customers import (
    OffboardCustomerInput,
    OnboardCustomerInput,
    branch_job_id,
)
from contracts.provisioning.names import Operations, Workflows
from core.settings import Settings
from providers.jira import JiraPortals
from store.db import Database
from store.provisioning import customers
from store.provisioning.models import Customer

log = structlog.get_logger(__name__)
ONBOARD_ESTIMATE = "1-3 minutes"
# branch → the operation of its child job
BRANCH_OPERATIONS = {
    "jira": Operations.JIRA_PROVISION,
    "litellm": Operations.LITELLM_PROVISION,
    "zenml": Operations.ZENML_PROVISION,
}


def subject(prefix: str) -> JobSubject:
    return JobSubject(kind="customer", name=prefix)


def view(row: Customer) -> CustomerResponse:
    def status(branch: str) -> ProvisioningStatus | None:
        value = getattr(row, f"{branch}_status")
        if value is None:
            return None
        return ProvisioningStatus(status=value, reason=getattr(row, f"{branch}_reason"))

    return CustomerResponse(
        id=row.id,
        prefix=row.prefix,
        name=row.name,
        email=row.email,
        active=row.active,
        **{
            field: getattr(row, field)
            for field in customers.UPDATABLE
            if field not in ("name", "email")
        },
        provisioning=Provisionings(
            jira=status("jira"), litellm=status("litellm"), zenml=status("zenml")
        ),
        onboarding_job_id=row.onboarding_job_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _email_taken(email: str, other: Customer) -> ApiError:
    return ApiError(
        409,
        f"email {email} is already the admin email of customer '{other.prefix}': a customer's "
        "admin email is unique (LiteLLM keeps one user per email)",
        code="email_taken",
        details={"field": "email", "customer": other.prefix},
    )


async def _refuse_taken_email(session, email: str, customer_id: uuid.UUID | None = None) -> None:
    other = await customers.with_email(session, email, other_than=customer_id)
    if other is not None:
        raise _email_taken(email, other)


def _prefix_taken(prefix: str) -> ApiError:
    return ApiError(
        409, f"customer prefix '{prefix}' is already taken", details={"field": "prefix"}
    )


async def create(
    db: Database,
    jobs: JobEngine,
    principal: Principal,
    request: CustomerCreate,
    idempotency_key: str | None,
) -> CustomerCreated:
    """The record first (so the prefix is taken before anything outside is made), then the job;
    if the job cannot start the record goes again, so a retry finds the prefix free."""
    job_id = job_id_for(Operations.ONBOARD_CUSTOMER, idempotency_key, principal)
    pending = "pending"
    created = False
    try:
        async with db.transaction() as session:
            row = await customers.by_prefix(session, request.prefix)
            if row is not None and not (idempotency_key and row.onboarding_job_id == job_id):
                raise _prefix_taken(request.prefix)
            if row is None:
                prefixes.refuse_ambiguous(
                    request.prefix, list(await customers.listing(session, active_only=False))
                )
                await _refuse_taken_email(session, request.email)
                row = await customers.add(
                    session,
                    Customer(
                        prefix=request.prefix,
                        name=request.name,
                        email=request.email,
                        active=True,
                        jira_status=pending if request.create_jira_portal else None,
                        litellm_status=pending if request.create_litellm else None,
                        zenml_status=pending if request.create_zenml else None,
                        onboarding_job_id=job_id,
                    ),
                )
                created = True
    except IntegrityError:
        raise _prefix_taken(request.prefix) from None
    settings = jobs.settings
    try:
        job = await jobs.start(
            Workflows.ONBOARD_CUSTOMER,
            OnboardCustomerInput(
                customer_id=str(row.id),
                prefix=row.prefix,
                name=request.name,
                email=request.email,
                jira=request.create_jira_portal,
                litellm=request.create_litellm,
                zenml=request.create_zenml,
                zenml_organization_id=request.zenml_organization_id,
                zenml_image=settings.zenml_server_image,
                region=settings.gcp_region,
            ),
            operation=Operations.ONBOARD_CUSTOMER,
            subject=subject(row.prefix),
            labels={CUSTOMER_LABEL: row.prefix},
            caller=principal,
            idempotency_key=idempotency_key,
            body=request.model_dump(mode="json"),
            estimated_time=ONBOARD_ESTIMATE,
            job_id=job_id,
        )
    except BaseException:
        if created:
            await _forget(db, row, job_id)
        raise
    if created and job.status in (JobStatus.failed, JobStatus.cancelled):
        # A key repeated after its onboarding ended undone: that job removed its record, and a
        # new record must not hang on a job that will never provision it.
        await _forget(db, row, job_id)
        raise ApiError(
            409,
            f"the onboarding of this Idempotency-Key ended {job.status.value}; use a new key",
            code="idempotency_conflict",
            details={"job_id": job_id},
        )
    return CustomerCreated(
        **view(row).model_dump(),
        job_id=job.job_id,
        job=job,
        provisioning_jobs=_branch_jobs(jobs, row, job.job_id),
    )


def _branch_jobs(jobs: JobEngine, row: Customer, job_id: str) -> ProvisioningJobs:
    """The child job of each provisioning the record asks for (its status is set at creation)."""
    found = {}
    for branch, operation in BRANCH_OPERATIONS.items():
        if getattr(row, f"{branch}_status") is None:
            continue
        child = branch_job_id(job_id, branch)
        found[branch] = ProvisioningJob(
            job_id=child,
            operation=operation,
            job_url=jobs.job_url(child),
            logs_url=jobs.logs_url(child),
            temporal_ui_url=jobs.ui_url(child),
        )
    return ProvisioningJobs(**found)


async def _forget(db: Database, row: Customer, job_id: str) -> None:
    async with db.transaction() as session:
        await customers.remove(session, row.id, job_id)


async def _row(db: Database, customer_id: uuid.UUID) -> Customer:
    async with db.transaction() as session:
        row = await customers.by_id(session, customer_id)
    if row is None:
        raise not_found("customer", customer_id=str(customer_id))
    return row


async def get(db: Database, customer_id: uuid.UUID) -> CustomerResponse:
    return view(await _row(db, customer_id))


async def by_prefix(db: Database, prefix: str) -> CustomerResponse:
    async with db.transaction() as session:
        row = await customers.by_prefix(session, prefix)
    if row is None:
        raise not_found("customer", prefix=prefix)
    return view(row)


async def listing(db: Database, active_only: bool) -> list[CustomerResponse]:
    async with db.transaction() as session:
        rows = await customers.listing(session, active_only=active_only)
    return [view(row) for row in rows]


async def portal(db: Database, settings: Settings, customer_id: uuid.UUID) -> CustomerPortal:
    row = await _row(db, customer_id)
    if not row.jira_sd_id:
        raise ApiError(
            404, "this customer has no Jira portal", details={"customer_id": str(customer_id)}
        )
    return CustomerPortal(
        customer_id=row.id,
        jira_project_key=row.jira_project_key,
        jira_sd_id=row.jira_sd_id,
        portal_url=JiraPortals(settings).portal_url(row.jira_sd_id),
    )


async def services(db: Database, customer_id: uuid.UUID) -> CustomerServices:
    async with db.transaction() as session:
        row = await customers.by_id(session, customer_id)
        if row is None:
            raise not_found("customer", customer_id=str(customer_id))
        records = await customers.services_of(session, customer_id)
    return CustomerServices(
        customer_id=customer_id,
        services=[
            CustomerService(
                name=r.name,
                type=r.type,
                category=r.category,
                region=r.region,
                url=r.url,
                image=r.image,
                status=r.status,
                labels=r.labels or {},
                deployed_at=r.deployed_at,
            )
            for r in records
        ],
    )


async def update(
    db: Database,
    settings: Settings,
    principal: Principal,
    customer_id: uuid.UUID,
    request: CustomerUpdate,
) -> CustomerResponse:
    changes: dict[str, Any] = request.model_dump(exclude_unset=True)
    for required in ("name", "email"):
        if required in changes and changes[required] is None:
            raise ApiError(
                400,
                f"invalid request: {required} cannot be null",
                details={"fields": [{"field": required, "message": "cannot be null"}]},
            )
    await references.check(settings, db, principal, (await _row(db, customer_id)).prefix, changes)
    async with db.transaction() as session:
        row = await customers.by_id(session, customer_id)
        if row is None:
            raise not_found("customer", customer_id=str(customer_id))
        if changes.get("email"):
            await _refuse_taken_email(session, changes["email"], customer_id)
        await customers.update(session, row, changes)
    return view(row)


async def offboard(
    db: Database,
    jobs: JobEngine,
    principal: Principal,
    customer_id: uuid.UUID,
    idempotency_key: str | None,
) -> JobResponse | None:
    """Starts OffboardCustomer; None when it completed within the wait (the caller answers 204)."""
    row = await _row(db, customer_id)
    settings = jobs.settings
    job = await jobs.start(
        Workflows.OFFBOARD_CUSTOMER,
        OffboardCustomerInput(
            customer_id=str(row.id), prefix=row.prefix, region=settings.gcp_region
        ),
        operation=Operations.OFFBOARD_CUSTOMER,
        subject=subject(row.prefix),
        labels={CUSTOMER_LABEL: row.prefix},
        caller=principal,
        idempotency_key=idempotency_key,
        body={"customer_id": str(row.id)},
    )
    handle = jobs.client.get_workflow_handle(job.job_id)
    try:
        await asyncio.wait_for(handle.result(), settings.customer_offboard_wait_seconds)
    except TimeoutError:
        return job
    except WorkflowFailureError:
        job.status = (await jobs.get(job.job_id))[0].status
        return job
    return None
