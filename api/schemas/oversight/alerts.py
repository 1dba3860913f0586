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
        "`compensation_failed`: an undo of the job failed and what it made may be left behind; "
        "`resource_drifted`: a resource the platform applied was changed outside it (`resource`), "
        "resolved once it is back in sync."
    )
    status: AlertStatus
    job_id: str = Field(
        description="The job the alert is about; for `resource_drifted`, the drift's own key."
    )
    resource: str | None = Field(
        default=None,
        description="For `resource_drifted`, the resource as `<kind>/<name>`: `service/<name>` "
        "(an agent's Cloud Run service too), `vm/<vmid>`, `docker_service/<id>`, `runner/<id>`; "
        "null for job alerts.",
    )
    workflow_type: str
    message: str
    raised_at: UtcDateTime
    resolved_at: UtcDateTime | None = Field(
        description="When the job ended (overdue alerts resolve themselves)."
    )
    job_url: str | None = Field(description="Null for `resource_drifted` (no job).")
    temporal_ui_url: str | None = Field(description="Null for `resource_drifted` (no job).")


class AlertPage(BaseModel):
    items: list[Alert]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next (older) page; null on the last page."
    )
