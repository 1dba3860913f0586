"""Job shapes of seed 000 §1.2 and §6."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.base import RequestModel
from api.schemas.types import UtcDateTime
from contracts.job_operations import JOB_OPERATIONS
from contracts.jobs import CompensationEntry, JobSubject

# The `operation` filter of the job listing: an enum, so an unknown one is a 400 (and the OpenAPI
# document lists the values).
JobOperation = StrEnum("JobOperation", {name: name for name in sorted(JOB_OPERATIONS)})


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    # Running, held after a step failed for good (`on_failure: hold`): waits for retry or rollback.
    needs_attention = "needs_attention"
    # Running, undoing what it did (after a failure, a rollback or a cancel): it ends failed or
    # cancelled; nothing can be retried or rolled back meanwhile.
    compensating = "compensating"
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


class JobActions(BaseModel):
    """What the caller may do to the job now, from its state and the caller's scopes."""

    can_cancel: bool = False
    can_force_cancel: bool = False
    can_retry: bool = False
    can_rollback: bool = False


class RootCause(BaseModel):
    step: str = Field(description="The step (activity) that failed.")
    message: str = Field(description="The outside system's error, verbatim, without endpoints.")
    attempts: int | None = Field(None, description="How many times the step was tried.")
    event_id: int | None = Field(None, description="The failure's event in the job's history.")
    temporal_ui_url: str | None = Field(
        None, description="The Temporal Web UI at that event of the job's history."
    )


class JobCleanup(BaseModel):
    """The cleanup job a force-cancel started: what it removed of what the terminated job owned,
    and what it could not."""

    job_id: str
    job_url: str
    temporal_ui_url: str
    status: JobStatus
    removed: list[str] = Field(
        default_factory=list, description="What it removed, in words (`cloud run service foo`)."
    )
    steps: list[CompensationEntry] = Field(
        default_factory=list,
        description="Each system's cleanup step per job it ran for, with its error when it failed.",
    )
    error: str | None = Field(None, description="What it could not remove, when it failed.")
    alert: str | None = Field(
        None, description="`compensation_failed` when a step failed: something was left behind."
    )


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
    compensation: list[CompensationEntry] = Field(
        default_factory=list,
        description="The undos a failed or cancelled job ran, in the order they ran (`kept`: a "
        "change with no undo, left as its step says).",
    )
    alert: str | None = Field(
        None, description="`compensation_failed` when an undo failed: something was left behind."
    )
    root_cause: RootCause | None = None
    retry_of: str | None = Field(None, description="The job this one retries afresh.")
    retried_by: list[str] = Field(
        default_factory=list,
        description="Jobs started afresh as retries of this one (GET /jobs/{id} only).",
    )
    cancel_requested_at: UtcDateTime | None = None
    cleanup: JobCleanup | None = Field(
        None,
        description="A force-cancelled job's cleanup job (GET /jobs/{id} only); its alert is the "
        "job's `alert` too.",
    )
    actions: JobActions = Field(default_factory=JobActions)
    live: bool = Field(
        True,
        description="false when progress, phase and error come from the job's memo (as of its last "
        "phase change) rather than from the workflow itself: always so in listings, and when no "
        "worker answered. A finished job is read whole from its final memo: true.",
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
        "keeps (at most 50, as of its last phase change). A finished job's final memo that holds "
        "all its lines answers them in full: true.",
    )


class CancelResponse(BaseModel):
    job_id: str
    status: str
    message: str
    effect: str = Field(description="What the cancel does, as the job's workflow declares it.")


class JobControlRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"comment": "the deploy hangs on the IAM step"}]}
    )

    comment: str | None = Field(None, max_length=1000, description="Why (kept with the audit).")


class RetryRequest(JobControlRequest):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{}, {"comment": "quota raised"}, {"fresh": True, "comment": "again"}]
        }
    )

    fresh: bool = Field(
        False,
        description="For a job that already failed and was compensated: start it again as a new "
        "job (same workflow and input), linked to this one.",
    )


class JobControlResponse(BaseModel):
    job_id: str
    status: str
    message: str
    new_job_id: str | None = Field(None, description="The job a fresh retry started.")
    cleanup_job_id: str | None = Field(None, description="The cleanup job of a force-cancel.")
