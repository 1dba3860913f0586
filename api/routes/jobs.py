"""Jobs (seed 000 §6): every job is a Temporal workflow; these endpoints read and cancel them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from api.auth import Reader, Writer
from api.deps import JobEngineDep
from api.errors import answers
from api.http import JsonRouter
from api.schemas.jobs import CancelResponse, Job, JobList, JobLogs, JobStatus

router = JsonRouter(prefix="/api/v1/jobs", tags=["jobs"], responses=answers(503))

JobIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,200}$")]


@router.get("", response_model=JobList)
async def list_jobs(
    _: Reader,
    jobs: JobEngineDep,
    service_name: Annotated[str | None, Query(pattern=r"^[a-z0-9-]{1,63}$")] = None,
    status: JobStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    page_token: Annotated[
        str | None,
        Query(max_length=4096, description="The `next_page_token` of the previous page."),
    ] = None,
) -> JobList:
    return await jobs.list(
        service_name=service_name, status=status, limit=limit, page_token=page_token
    )


@router.get("/{job_id}", response_model=Job)
async def get_job(job_id: JobIdPath, _: Reader, jobs: JobEngineDep) -> Job:
    job, _state = await jobs.get(job_id)
    return job


@router.get("/{job_id}/logs", response_model=JobLogs)
async def get_job_logs(
    job_id: JobIdPath,
    _: Reader,
    jobs: JobEngineDep,
    lines: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> JobLogs:
    return await jobs.logs(job_id, lines)


@router.post(
    "/{job_id}/cancel", response_model=CancelResponse, status_code=202, responses=answers(409)
)
async def cancel_job(job_id: JobIdPath, _: Writer, jobs: JobEngineDep) -> CancelResponse:
    _job, effect = await jobs.cancel(job_id)
    return CancelResponse(
        job_id=job_id, status="cancelling", message=f"cancel requested: {effect}", effect=effect
    )
