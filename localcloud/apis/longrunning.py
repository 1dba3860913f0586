"""`GET /v1|v2/projects/*/locations/*/operations/*` for every API that keeps long-running operations.

Google serves each API on its own host, so Cloud Run, Cloud Build and Artifact Registry can all poll
the same path; here one host serves them all, so the path is answered once, by the API whose document
holds the operation (each registers its renderer with `localcloud.operations.register`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from localcloud import operations, protojson
from localcloud.state import state_of

router = APIRouter(tags=["operations"])


@router.get("/v1/projects/{project}/locations/{location}/operations/{op_id}")
@router.get("/v2/projects/{project}/locations/{location}/operations/{op_id}")
async def get_operation(
    project: str, location: str, op_id: str, request: Request
) -> dict[str, Any]:
    name = f"projects/{project}/locations/{location}/operations/{op_id}"
    return operations.find(state_of(request), name, protojson.wants_int_enums(request))
