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
    estimated_time: str | None = Field(
        None,
        description="The median duration of this operation's recent completed jobs; a typical "
        "figure for the operation until one has completed.",
    )
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
    live: bool = Field(
        True,
        description="false when progress, phase and error come from the job's memo (as of its last "
        "phase change) rather than from the workflow itself: always so in listings, and when no "
        "worker answered.",
    )


class JobList(BaseModel):
    jobs: list[Job]
    total: int = Field(description="Jobs matching the filters, on every page.")
    next_page_token: str | None = Field(
        None, description="Pass as `page_token` for the next page; null on the last page."
    )


class JobLogs(BaseModel):
    job_id: str
    total: int = Field(description="Log lines the job has (or had when its memo was written).")
    lines: int = Field(description="Log lines in this answer.")
    logs: list[str]
    live: bool = Field(
        True,
        description="false when no worker answered: the lines are the newest ones the job's memo "
        "keeps (at most 50, as of its last phase change).",
    )


class CancelResponse(BaseModel):
    job_id: str
    status: str
    message: str
    effect: str = Field(description="What the cancel does, as the job's workflow declares it.")
