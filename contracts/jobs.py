"""What every job shares across the Temporal boundary: its state, memo, subject, and the names the API
and the workflows both use to reach them. Nothing here knows a system's domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

# Bounded so a query answer and the history stay small whatever a job logs.
MAX_LOG_LINES = 10_000

# Names crossing the boundary: the workflow defines them, the API reads them.
JOB_STATE_QUERY = "job_state"
JOB_MEMO_KEY = "job"
REQUEST_HASH_MEMO_KEY = "request_hash"

# Well-known label keys: the jobs API shows them as the seed's `service_name` / `customer_prefix`.
SERVICE_LABEL = "service"
CUSTOMER_LABEL = "customer"


class JobSubject(BaseModel):
    """The one resource a job changes: a service, a database, a customer, a VM, a runner. Jobs on the
    same subject never run their steps at the same time."""

    kind: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    name: str = Field(min_length=1, max_length=200)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}"


class JobState(BaseModel):
    job_id: str
    operation: str
    subject: JobSubject | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    current_phase: str = "queued"
    progress: int = 0
    started_at: datetime | None = None
    # Jobs on the same subject this one waits for, the one holding it first; empty once it runs.
    queued_behind: list[str] = Field(default_factory=list)
    logs: list[str] = Field(default_factory=list)
    result: dict[str, Any] | None = None
    error: str | None = None


class JobSummaryMemo(BaseModel):
    """What a workflow keeps in its memo so listings need no query per job."""

    current_phase: str = "queued"
    progress: int = 0
    started_at: datetime | None = None
    queued_behind: list[str] = Field(default_factory=list)
    result: dict[str, Any] | None = None
    error: str | None = None
