"""The ingest webhook's answer (seed 003)."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, RootModel


class IngestPayload(RootModel[dict[str, Any]]):
    """The webhook's payload: any JSON object (checked further by `api/logic/crm/payload.py`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "nombre": "Juan Perez",
                    "email": "juan@example.com",
                    "telefono": "+5491155551234",
                    "empresa": "ACME Corp",
                }
            ]
        }
    )


class IngestResponse(BaseModel):
    success: bool = True
    record_id: uuid.UUID
    lead_id: uuid.UUID
    # Fields the account does not know and did not create (auto-create off); empty otherwise.
    unknown_fields: list[str]
    auto_create_enabled: bool
    # Fields this delivery created; a field a concurrent delivery created first is not listed.
    fields_created: list[str]
