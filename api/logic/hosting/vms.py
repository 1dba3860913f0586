"""What the VM routes need beyond HTTP (seed 001): the VMID allocator, starting the VM jobs, a VM's
row joined with Proxmox's live view, and the console ticket, which goes from Proxmox to the caller
here and nowhere else (no job, no history, no log).

**VMID allocation (one allocator per cluster).** `POST /vm` reserves the VMID before its job
starts, so the 202 already names the VM: the candidate is the larger of Proxmox's
`/cluster/nextid` and the highest VMID the platform ever reserved plus one; the platform's table
decides between concurrent requests (its primary key: an insert that loses takes the next id), and
Proxmox is asked whether the id is free there (`nextid?vmid=`). Rows are never deleted, so an id is
never handed out twice. A VM made outside the platform under that id between the reservation and
the clone makes the job fail (the clone adopts only a VM with its own mark)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

import structlog
from temporalio.exceptions import ApplicationError

from api.auth import Principal
from api.deps import PlatformState
from api.errors import ApiError, not_found
from api.job_engine import job_id_for
from api.schemas.hosting.vms import VmConsole, VmCreate, VmDetail, VmJob, VmLive, VmUpdate
from contracts.hosting.vm_names import VmOperations, VmWorkflows
from contracts.hosting.vms import (
    CONTROL,
    ControlVmInput,
    CreateVmInput,
    DeleteVmInput,
    UpdateVmInput,
    VmSpec,
)
from contracts.jobs import JobSubject
from contracts.provisioning.drift import VM_KIND
from core.settings import Settings
from providers import proxmox
from providers.proxmox import ProxmoxVE
from store.db import Database
from store.hosting import vms as store
from store.oversight import resource_states

log = structlog.get_logger(__name__)
T = TypeVar("T")
_ALLOCATION_TRIES = 50
# A VM in one of these is no longer there to change.
_GONE = ("deleted", "failed")


def _subject(vm_id: int) -> JobSubject:
    return JobSubject(kind="vm", name=str(vm_id))


def _unavailable(error: ApplicationError, what: str) -> ApiError:
    final = error.non_retryable and error.type not in ("ProxmoxUnavailable", "ProxmoxBusy")
    return ApiError(
        502 if final else 503,
        f"{what}: Proxmox did not serve the request",
        details={"upstream": error.message, "type": error.type},
    )


async def _pve(settings: Settings, fn: Callable[[ProxmoxVE], T]) -> T:
    return await asyncio.to_thread(lambda: fn(proxmox.client(settings)))


def _bounds(settings: Settings, memory: int | None, cores: int | None) -> None:
    fields = []
    if memory is not None and not (
        settings.hosting_vm_memory_min_mb <= memory <= settings.hosting_vm_memory_max_mb
    ):
        fields.append(
            {
                "field": "memory",
                "message": f"must be {settings.hosting_vm_memory_min_mb}-"
                f"{settings.hosting_vm_memory_max_mb} MB",
            }
        )
    if cores is not None and not 1 <= cores <= settings.hosting_vm_cores_max:
        fields.append({"field": "cores", "message": f"must be 1-{settings.hosting_vm_cores_max}"})
    if fields:
        names = ", ".join(f["field"] for f in fields)
        raise ApiError(400, f"invalid request: {names}", "validation_error", {"fields": fields})


async def _allocate(platform: PlatformState, job_id: str, body: VmCreate) -> int:
    """Reserves a VMID and the VM's `creating` row for the job (see the module's docstring)."""
    settings, db = platform.settings, platform.db
    async with db.transaction() as session:
        if not await store.user_exists(session, body.userid):
            raise not_found("user", userid=body.userid)
        mine = await store.of_job(session, job_id)
    if mine is not None:
        return mine.id
    try:
        candidate = await _pve(settings, lambda pve: pve.next_vmid())
    except ApplicationError as error:
        raise _unavailable(error, "allocating a VM id") from None
    for _ in range(_ALLOCATION_TRIES):
        async with db.transaction() as session:
            highest = await store.highest_vmid(session)
        candidate = max(candidate, (highest or 0) + 1, store.FIRST_VMID)
        try:
            await _pve(settings, lambda pve, vmid=candidate: pve.next_vmid(preferred=vmid))
        except ApplicationError as error:
            if error.type == "AlreadyExists":
                candidate += 1
                continue
            raise _unavailable(error, "allocating a VM id") from None
        async with db.transaction() as session:
            row = await store.reserve(
                session,
                candidate,
                job_id,
                userid=body.userid,
                vm_name=body.vm_name,
                os_type=body.os_type,
                cores=body.cores or settings.hosting_vm_default_cores,
                memory_mb=body.memory or settings.hosting_vm_default_memory_mb,
                disksize_gb=body.disksize or settings.hosting_vm_default_disk_gb,
            )
            if row is not None:
                return row.id
        candidate += 1
    raise ApiError(503, "no free VM id could be reserved now; retry", details={"tried": candidate})


async def create(
    platform: PlatformState, principal: Principal, body: VmCreate, idempotency_key: str | None
) -> VmJob:
    settings = platform.settings
    _bounds(settings, body.memory, body.cores)
    operation = VmOperations.CREATE_VM
    job_id = job_id_for(operation, idempotency_key, principal)
    vm_id = await _allocate(platform, job_id, body)
    spec = VmSpec(
        cores=body.cores or settings.hosting_vm_default_cores,
        memory_mb=body.memory or settings.hosting_vm_default_memory_mb,
        disksize_gb=body.disksize or settings.hosting_vm_default_disk_gb,
    )
    try:
        job = await platform.jobs.start(
            VmWorkflows.CREATE_VM,
            CreateVmInput(
                vm_id=vm_id,
                userid=body.userid,
                vm_name=body.vm_name,
                os_type=body.os_type,
                spec=spec,
                ssh_pub_key=body.ssh_pub_key,
                nodes=list(settings.hosting_vm_nodes),
                ha=settings.hosting_vm_ha,
                poll_seconds=settings.hosting_vm_task_poll_seconds,
            ),
            operation=operation,
            subject=_subject(vm_id),
            labels={"vm_id": str(vm_id), "userid": body.userid, "vm_name": body.vm_name},
            caller=principal,
            idempotency_key=idempotency_key,
            body=body.model_dump(mode="json"),
            estimated_time="a few minutes",
            job_id=job_id,
        )
    except Exception:
        # No job took the row: it must not stay `creating` (the id stays used, as every id does).
        # A repeated Idempotency-Key refused (409) leaves its own job's row alone.
        if not await _job_exists(platform, job_id):
            await store.update(platform.db, vm_id, job_id, status="failed")
        raise
    return VmJob(**job.model_dump(), vm_id=vm_id)


async def _job_exists(platform: PlatformState, job_id: str) -> bool:
    try:
        return await platform.jobs.exists(job_id)
    except Exception:
        return False


async def _row(db: Database, vm_id: int):
    async with db.transaction() as session:
        row = await store.get(session, vm_id)
    if row is None:
        raise not_found("VM", vm_id=vm_id)
    return row


def _usable(row, doing: str) -> None:
    if row.status in _GONE:
        raise ApiError(
            409,
            f"VM {row.id} is {row.status}: it cannot {doing}",
            code="vm_gone",
            details={"vm_id": row.id, "status": row.status},
        )


async def detail(settings: Settings, db: Database, vm_id: int) -> VmDetail:
    row = await _row(db, vm_id)
    async with db.transaction() as session:
        state = await resource_states.get(session, VM_KIND, str(vm_id))
    observed = state is not None and state.observed_at is not None and row.status not in _GONE
    view = VmDetail(
        id=row.id,
        vm_id=row.id,
        userid=row.userid,
        vm_name=row.vm_name,
        os_type=row.os_type,
        node=row.node,
        status=row.status,
        cores=row.cores,
        memory_mb=row.memory_mb,
        disksize_gb=row.disksize_gb,
        access_url=row.access_url,
        job_id=row.job_id,
        conditions=state.conditions if observed else [],
        drift=state.drift if observed else [],
        observed_at=state.observed_at if observed else None,
    )
    if row.status in _GONE:
        return view
    try:
        node = row.node or await _pve(settings, lambda pve: pve.locate(vm_id))
        if node is None:
            view.live_error = "not on the Proxmox cluster (yet)"
            return view
        try:
            live = await _pve(settings, lambda pve: pve.status(node, vm_id))
        except ApplicationError as error:
            if error.type != "NotFound":
                raise
            # Moved (HA) since it was recorded.
            node = await _pve(settings, lambda pve: pve.locate(vm_id))
            if node is None:
                view.live_error = "not on the Proxmox cluster"
                return view
            live = await _pve(settings, lambda pve: pve.status(node, vm_id))
    except ApplicationError as error:
        # A Proxmox outage degrades the answer, never fails it.
        view.live_error = error.message[:300]
        return view
    view.live = VmLive(
        node=live.node,
        status=live.status,
        qmpstatus=live.qmpstatus,
        ha_managed=live.ha_managed,
        lock=live.lock,
        cores=live.cores,
        memory_mb=live.memory_mib,
        disk_gb=live.disk_gib,
        uptime=live.uptime,
    )
    return view


async def update(
    platform: PlatformState,
    principal: Principal,
    vm_id: int,
    body: VmUpdate,
    idempotency_key: str | None,
) -> VmJob:
    if body.disksize is None and body.memory is None and body.cores is None:
        raise ApiError(
            400,
            "invalid request: give at least one of disksize, memory, cores",
            "validation_error",
            {"fields": [{"field": "body", "message": "nothing to update"}]},
        )
    _bounds(platform.settings, body.memory, body.cores)
    row = await _row(platform.db, vm_id)
    _usable(row, "be updated")
    if body.disksize is not None and row.disksize_gb and body.disksize < row.disksize_gb:
        raise ApiError(
            400,
            f"invalid request: disksize: VM {vm_id}'s disk is {row.disksize_gb} GB; a disk can "
            "only grow",
            "validation_error",
            {"fields": [{"field": "disksize", "message": f"must be >= {row.disksize_gb}"}]},
        )
    return await _start(
        platform,
        principal,
        VmOperations.UPDATE_VM,
        VmWorkflows.UPDATE_VM,
        UpdateVmInput(
            vm_id=vm_id,
            userid=row.userid,
            cores=body.cores,
            memory_mb=body.memory,
            disksize_gb=body.disksize,
            poll_seconds=platform.settings.hosting_vm_task_poll_seconds,
        ),
        vm_id,
        idempotency_key,
        body.model_dump(mode="json"),
    )


async def control(
    platform: PlatformState,
    principal: Principal,
    vm_id: int,
    action: str,
    idempotency_key: str | None,
) -> VmJob:
    row = await _row(platform.db, vm_id)
    _usable(row, action)
    poll = platform.settings.hosting_vm_task_poll_seconds
    if action == "delete":
        return await _start(
            platform,
            principal,
            VmOperations.DELETE_VM,
            VmWorkflows.DELETE_VM,
            DeleteVmInput(vm_id=vm_id, userid=row.userid, poll_seconds=poll),
            vm_id,
            idempotency_key,
            {"vm_id": vm_id, "action": action},
        )
    if action not in CONTROL:
        raise ApiError(400, f"unknown VM action {action!r}", "validation_error")
    return await _start(
        platform,
        principal,
        VmOperations.CONTROL_VM,
        VmWorkflows.CONTROL_VM,
        ControlVmInput(vm_id=vm_id, userid=row.userid, action=action, poll_seconds=poll),
        vm_id,
        idempotency_key,
        {"vm_id": vm_id, "action": action},
    )


async def _start(
    platform: PlatformState,
    principal: Principal,
    operation: str,
    workflow: str,
    arg,
    vm_id: int,
    idempotency_key: str | None,
    body: dict,
) -> VmJob:
    job = await platform.jobs.start(
        workflow,
        arg,
        operation=operation,
        subject=_subject(vm_id),
        labels={"vm_id": str(vm_id)},
        caller=principal,
        idempotency_key=idempotency_key,
        body=body,
        estimated_time="about a minute",
    )
    return VmJob(**job.model_dump(), vm_id=vm_id)


async def console(settings: Settings, db: Database, vm_id: int) -> VmConsole:
    """A console ticket straight from Proxmox to the caller. Nothing here logs it, and a failure
    names the VM, never the ticket."""
    row = await _row(db, vm_id)
    _usable(row, "be connected to")
    if row.status in ("creating", "deleting"):
        raise ApiError(
            409,
            f"VM {vm_id} is {row.status}: try again when it is done",
            code="vm_busy",
            details={"vm_id": vm_id, "status": row.status},
        )
    try:
        node = await _pve(settings, lambda pve: pve.locate(vm_id))
        if node is None:
            raise not_found("VM on the Proxmox cluster", vm_id=vm_id)
        # Proxmox refuses a console to a VM that is not running with a 500 ("VM 101 not running"),
        # which is the caller's state to change, not an upstream failure: a 409 that says so.
        live = await _pve(settings, lambda pve: pve.status(node, vm_id))
        if live.status != "running":
            raise ApiError(
                409,
                f"VM {vm_id} is {live.status}: start it to open a console",
                code="vm_not_running",
                details={"vm_id": vm_id, "status": live.status},
            )
        ticket = await _pve(settings, lambda pve: pve.vnc_ticket(node, vm_id))
    except ApplicationError as error:
        if error.type == "NotFound":
            raise not_found("VM on the Proxmox cluster", vm_id=vm_id) from None
        raise _unavailable(error, f"opening a console to VM {vm_id}") from None
    log.info("vm console ticket issued", vm_id=vm_id, node=node)
    return VmConsole(
        vm_id=vm_id,
        node=node,
        host=settings.resolved_proxmox_endpoint,
        port=ticket.port,
        user=ticket.user,
        ticket=ticket.ticket,
        cert=ticket.cert,
        upid=ticket.upid,
        websocket_path=f"/api2/json/nodes/{node}/qemu/{vm_id}/vncwebsocket",
    )
