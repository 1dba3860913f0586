"""`GET /api/v1/audit`: one row per mutating API call, newest first."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field

from api.schemas.types import UtcDateTime


class AuditEvent(BaseModel):
    id: uuid.UUID
    occurred_at: UtcDateTime
    actor_key_id: uuid.UUID | None = Field(description="The API key that made the call.")
    actor_name: str = Field(description="That key's name.")
    request_id: str = Field(description="The call's X-Request-ID (given, or generated and echoed).")
    method: str
    path: str
    resource: str = Field(
        description="What the call changed: `service:hello`, `jobs/<job_id>`, `api-keys/<id>`, …"
    )
    comment: str | None = Field(description="The reason given (`X-Audit-Reason`, or the route's).")
    status_code: int
    job_id: str | None = Field(description="The job the call started or acted on.")


class AuditPage(BaseModel):
    items: list[AuditEvent]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next (older) page; null on the last page."
    )
