"""Job shapes of seed 000 §1.2 and §6."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from api.schemas.types import UtcDateTime
from contracts.jobs import JobSubject


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    completed = "completed"
    failed = "failed"
    cancelled = "cancelled"


class JobResponse(BaseModel):
    """Answer to a request that started a job (HTTP 202)."""

    job_id: str
    status: JobStatus
    operation: str
    service_name: str | None = None
    created_at: UtcDateTime
    estimated_time: str | None = None
    job_url: str
    logs_url: str
    temporal_ui_url: str


class Job(BaseModel):
    job_id: str
    status: JobStatus
    operation: str | None = None
    service_name: str | None = None
    customer_prefix: str | None = None
    subject: JobSubject | None = Field(
        None, description="The one resource the job changes (kind and name)."
    )
    labels: dict[str, str] = Field(default_factory=dict)
    progress: int = 0
    current_phase: str | None = None
    queued_behind: list[str] = Field(
        default_factory=list,
        description="While queued: the jobs on the same subject this one waits for, the one "
        "running first. Jobs on one subject run one at a time, in the order they were requested.",
    )
    created_at: UtcDateTime | None = None
    started_at: UtcDateTime | None = None
    completed_at: UtcDateTime | None = None
    duration: float | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    logs_url: str
    temporal_ui_url: str


class JobList(BaseModel):
    jobs: list[Job]
    total: int


class JobLogs(BaseModel):
    job_id: str
    total: int
    lines: int
    logs: list[str]


class CancelResponse(BaseModel):
    job_id: str
    status: str
    message: str
