"""Seed 001's Proxmox VMs, at the API's root: `POST /vm` (a form; a CreateVM job with node
failover), `GET /vm/{vm_id}` (the row and Proxmox's live view), `PUT|POST /vm/update/{vm_id}` (an
UpdateVM job), `GET|POST /vm/connect/{vm_id}` (a console ticket, answered directly) and
`POST /control-vm/{vm_id}/{action}` (a ControlVM job, or DeleteVM for `delete`). `hosting` scope."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import Form, Header, Path, Response, status

from api.auth import HostingScope
from api.deps import DbDep, JobStarting, SettingsDep
from api.errors import DESCRIPTIONS, answers
from api.http import JsonRouter
from api.logic.hosting import vms as logic
from api.schemas.hosting.vms import VmConsole, VmCreate, VmDetail, VmJob, VmUpdate
from contracts.hosting.vms import VM_ACTIONS

router = JsonRouter(tags=["hosting"], responses=answers(400, 401, 403))

VmId = Annotated[int, Path(ge=100, le=999_999_999, description="The VM's Proxmox VMID.")]
VmAction = StrEnum("VmAction", {name: name for name in VM_ACTIONS})
IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)
]
_NOT_A_FORM = {
    415: {**answers(415)[415], "description": DESCRIPTIONS[415].replace("JSON", "a form")}
}
_JOB = {"status_code": status.HTTP_202_ACCEPTED, "response_model": VmJob}


@router.post("/vm", **_JOB, responses={**answers(404, 409, 413, 502, 503), **_NOT_A_FORM})
async def create_vm(
    body: Annotated[VmCreate, Form()],
    principal: HostingScope,
    platform: JobStarting,
    idempotency_key: IdempotencyKey = None,
) -> VmJob:
    """Reserves a VMID (in the answer) and starts CreateVM: the nodes most free first, the next
    one when a node refuses or fails. 404 when the user does not exist."""
    return await logic.create(platform, principal, body, idempotency_key)


@router.get("/vm/{vm_id}", response_model=VmDetail, responses=answers(404))
async def get_vm(vm_id: VmId, _: HostingScope, settings: SettingsDep, db: DbDep) -> VmDetail:
    return await logic.detail(settings, db, vm_id)


_UPDATE = {**_JOB, "responses": {**answers(404, 409, 413), **_NOT_A_FORM}}


@router.put("/vm/update/{vm_id}", operation_id="update_vm_put", **_UPDATE)
@router.post("/vm/update/{vm_id}", operation_id="update_vm", **_UPDATE)
async def update_vm(
    vm_id: VmId,
    body: Annotated[VmUpdate, Form()],
    principal: HostingScope,
    platform: JobStarting,
    idempotency_key: IdempotencyKey = None,
) -> VmJob:
    """Cores and memory, and the disk (only larger: a smaller one is a 400 before any job), then
    a restart, as an UpdateVM job."""
    return await logic.update(platform, principal, vm_id, body, idempotency_key)


_CONNECT = {"response_model": VmConsole, "responses": answers(404, 409, 502, 503)}


@router.get("/vm/connect/{vm_id}", operation_id="connect_vm_get", **_CONNECT)
@router.post("/vm/connect/{vm_id}", operation_id="connect_vm", **_CONNECT)
async def connect_vm(
    vm_id: VmId, _: HostingScope, settings: SettingsDep, db: DbDep, response: Response
) -> VmConsole:
    """A noVNC console ticket, straight from Proxmox: the platform keeps no copy and logs none."""
    response.headers["Cache-Control"] = "no-store"
    return await logic.console(settings, db, vm_id)


@router.post("/control-vm/{vm_id}/{action}", **_JOB, responses=answers(404, 409))
async def control_vm(
    vm_id: VmId,
    action: VmAction,
    principal: HostingScope,
    platform: JobStarting,
    idempotency_key: IdempotencyKey = None,
) -> VmJob:
    """start, stop, shutdown, restart (reboot), pause (suspend), resume: a ControlVM job;
    delete: a DeleteVM job (its HA resource removed first, then the VM, then the row marked)."""
    return await logic.control(platform, principal, vm_id, action.value, idempotency_key)
