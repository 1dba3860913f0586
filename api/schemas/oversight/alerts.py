"""`GET /api/v1/alerts`: what the JobReaper schedule raised, newest first."""

from __future__ import annotations

import uuid
from enum import StrEnum

from pydantic import BaseModel, Field

from api.schemas.types import UtcDateTime
from contracts.oversight.reaper import AlertKind


class AlertStatus(StrEnum):
    open = "open"
    resolved = "resolved"


class Alert(BaseModel):
    id: uuid.UUID
    kind: AlertKind = Field(
        description="`job_overdue`: open past its type's expected duration; "
        "`compensation_failed`: an undo of the job failed and what it made may be left behind."
    )
    status: AlertStatus
    job_id: str
    workflow_type: str
    message: str
    raised_at: UtcDateTime
    resolved_at: UtcDateTime | None = Field(
        description="When the job ended (overdue alerts resolve themselves)."
    )
    job_url: str
    temporal_ui_url: str


class AlertPage(BaseModel):
    items: list[Alert]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next (older) page; null on the last page."
    )
