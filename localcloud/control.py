"""The `/_localcloud/` control plane for tests and scripts: faults, config, reset, health."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from localcloud import aws, protojson
from localcloud.errors import invalid
from localcloud.faults import faults_of
from localcloud.state import state_of

router = APIRouter(prefix="/_localcloud", tags=["control"])


@router.get("/health")
async def health() -> dict[str, Any]:
    return {"status": "ok"}


@router.get("/aws")
async def aws_status() -> dict[str, Any]:
    """The local cloud's AWS (moto): whether it is served and ready, and the instances it
    seeded. Starts it when it was started lazily (`--aws-lazy`) and is not yet."""
    aws.ensure_started()
    return aws.status()


@router.get("/faults")
async def list_faults(request: Request) -> dict[str, Any]:
    return {"faults": faults_of(request).describe()}


@router.get("/faults/{fault_id}")
async def get_fault(request: Request, fault_id: int) -> dict[str, Any]:
    """A fault, active or ended (used up or cleared), with how many requests it `fired` on."""
    return faults_of(request).get(fault_id)


@router.post("/faults", status_code=201)
async def add_fault(request: Request) -> dict[str, Any]:
    fault = faults_of(request).add(await protojson.body(request))
    return fault.describe()


@router.delete("/faults")
async def clear_faults(request: Request) -> dict[str, Any]:
    faults_of(request).clear()
    return {"faults": []}


@router.get("/requests")
async def count_requests(
    request: Request, method: str | None = None, path_contains: str | None = None
) -> dict[str, Any]:
    """How many served requests (faulted ones included) match, by the rule faults use
    (localcloud.request_match): `method`, and `path_contains` a substring of path and query."""
    return {"count": request.app.state.requests.count(method, path_contains)}


@router.get("/config")
async def get_config(request: Request) -> dict[str, Any]:
    return dict(state_of(request).config)


@router.put("/config")
async def put_config(request: Request) -> dict[str, Any]:
    body = await protojson.body(request)
    state = state_of(request)
    if not isinstance(body, dict) or set(body) - set(state.config):
        raise invalid(f"config accepts only {sorted(state.config)}")
    for key, value in body.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise invalid(f"{key} must be a non-negative number")
    with state.lock:
        state.config.update({key: float(value) for key, value in body.items()})
    return dict(state.config)


@router.post("/reset")
async def reset(request: Request) -> dict[str, Any]:
    # Resources, operations, logs and faults go; config (set at start) stays.
    state_of(request).reset()
    faults_of(request).forget()
    request.app.state.requests.clear()
    return {"reset": True}
