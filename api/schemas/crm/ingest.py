"""The ingest webhook's answer (seed 003)."""

from __future__ import annotations

import uuid

from pydantic import BaseModel


class IngestResponse(BaseModel):
    success: bool = True
    record_id: uuid.UUID
    lead_id: uuid.UUID
    # Fields the account does not know and did not create (auto-create off); empty otherwise.
    unknown_fields: list[str]
    auto_create_enabled: bool
    # Fields this delivery created; a field a concurrent delivery created first is not listed.
    fields_created: list[str]
