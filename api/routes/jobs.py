"""Jobs (seed 000 §6): every job is a Temporal workflow; these endpoints read and cancel them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, Path, Query, Request

from api import job_controls, job_wait
from api.auth import Admin, Reader, Writer
from api.deps import JobEngineDep
from api.errors import answers
from api.http import JsonRouter
from api.schemas.jobs import (
    CancelResponse,
    Job,
    JobControlRequest,
    JobControlResponse,
    JobList,
    JobLogs,
    JobOperation,
    JobStatus,
    RetryRequest,
)

router = JsonRouter(prefix="/api/v1/jobs", tags=["jobs"], responses=answers(503))

JobIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,200}$")]


@router.get("", response_model=JobList)
async def list_jobs(
    principal: Reader,
    jobs: JobEngineDep,
    service_name: Annotated[str | None, Query(pattern=r"^[a-z0-9-]{1,63}$")] = None,
    operation: JobOperation | None = None,
    status: JobStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    page_token: Annotated[
        str | None,
        Query(max_length=4096, description="The `next_page_token` of the previous page."),
    ] = None,
) -> JobList:
    return await jobs.list(
        service_name=service_name,
        operation=operation,
        status=status,
        limit=limit,
        page_token=page_token,
        principal=principal,
    )


@router.get("/{job_id}", response_model=Job)
async def get_job(
    job_id: JobIdPath,
    principal: Reader,
    jobs: JobEngineDep,
    wait: Annotated[
        float,
        Query(
            ge=0,
            le=job_wait.MAX_WAIT_SECONDS,
            description=(
                "Seconds to hold the answer until the job has settled (completed, failed, "
                "cancelled or needs_attention); the job as it is then. 0: answer at once."
            ),
        ),
    ] = 0,
) -> Job:
    if wait:
        return await job_wait.settled_job(jobs, job_id, principal, wait)
    job, _state = await jobs.get(job_id, principal)
    return job


@router.get("/{job_id}/logs", response_model=JobLogs)
async def get_job_logs(
    job_id: JobIdPath,
    _: Reader,
    jobs: JobEngineDep,
    lines: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> JobLogs:
    return await jobs.logs(job_id, lines)


# The optional body of every control: the caller's reason (optional by its default None; the
# schema stays the request model, so a JSON `null` is refused as before).
CommentBody = Annotated[
    JobControlRequest,
    Body(description='Optional: `{"comment": "..."}`, the reason, kept for audit.'),
]


def _audit(request: Request, job_id: str, body: JobControlRequest | None) -> str | None:
    """The call's comment; kept on the request for the audit middleware, with which job the call
    acted on."""
    comment = body.comment if body else None
    request.state.audit_resource = f"job:{job_id}"
    request.state.audit_comment = comment
    return comment


@router.post(
    "/{job_id}/cancel", response_model=CancelResponse, status_code=202, responses=answers(409)
)
async def cancel_job(
    job_id: JobIdPath,
    request: Request,
    _: Writer,
    jobs: JobEngineDep,
    body: CommentBody = None,
) -> CancelResponse:
    """Graceful: running steps stop, then what the job did is undone (its `compensation`)."""
    _audit(request, job_id, body)
    _job, effect = await jobs.cancel(job_id)
    return CancelResponse(
        job_id=job_id, status="cancelling", message=f"cancel requested: {effect}", effect=effect
    )


@router.post(
    "/{job_id}/force-cancel",
    response_model=JobControlResponse,
    status_code=202,
    responses=answers(409),
)
async def force_cancel_job(
    job_id: JobIdPath,
    request: Request,
    principal: Admin,
    jobs: JobEngineDep,
    body: CommentBody = None,
) -> JobControlResponse:
    """For a job a graceful cancel did not stop, once the cool-off since that cancel has passed:
    terminates it and starts a cleanup job that removes what carries its id."""
    comment = _audit(request, job_id, body)
    return await job_controls.force_cancel(jobs, job_id, principal, comment)


@router.post(
    "/{job_id}/retry", response_model=JobControlResponse, status_code=202, responses=answers(409)
)
async def retry_job(
    job_id: JobIdPath,
    request: Request,
    principal: Writer,
    jobs: JobEngineDep,
    body: RetryRequest = Body(
        default=None, description='Optional: `{"fresh": true, "comment": "..."}`.'
    ),
) -> JobControlResponse:
    """A job in needs_attention runs its failed step again (the steps done before are not run
    again); with `fresh: true`, a job that failed or was cancelled starts again as a new job."""
    body = body or RetryRequest()
    _audit(request, job_id, body)
    return await job_controls.retry(jobs, job_id, principal, fresh=body.fresh, comment=body.comment)


@router.post(
    "/{job_id}/rollback",
    response_model=JobControlResponse,
    status_code=202,
    responses=answers(409),
)
async def rollback_job(
    job_id: JobIdPath,
    request: Request,
    _: Writer,
    jobs: JobEngineDep,
    body: CommentBody = None,
) -> JobControlResponse:
    """A job in needs_attention undoes what it did, as on any failure."""
    comment = _audit(request, job_id, body)
    return await job_controls.rollback(jobs, job_id, comment)
