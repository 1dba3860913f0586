"""Job state as workflows report it: the shape behind GET /jobs/{id}, its logs and the list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

# Bounded so a query answer and the history stay small whatever a job logs.
MAX_LOG_LINES = 10_000


class JobState(BaseModel):
    job_id: str
    operation: str
    service_name: str | None = None
    customer_prefix: str | None = None
    current_phase: str = "queued"
    progress: int = 0
    started_at: datetime | None = None
    logs: list[str] = Field(default_factory=list)
    result: dict[str, Any] | None = None
    error: str | None = None


class JobSummaryMemo(BaseModel):
    """What a workflow keeps in its memo so listings need no query per job."""

    current_phase: str = "queued"
    progress: int = 0
    started_at: datetime | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
