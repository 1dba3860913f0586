"""The benchmark's baseline: the ingest's path and answer from a bare FastAPI app, no database."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI

app = FastAPI()


@app.post("/api/v1/ingest/{account_api_key}")
async def ingest(account_api_key: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "success": True,
        "record_id": str(uuid.uuid4()),
        "lead_id": str(uuid.uuid4()),
        "unknown_fields": [],
        "auto_create_enabled": True,
        "fields_created": [],
    }
