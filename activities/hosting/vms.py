"""A Proxmox VM's steps (seed 001): plan the nodes, clone a template under a clone slot, configure,
grow the disk, power, HA, remove, record. Each one is idempotent: a VM the platform makes carries
its job's mark in its description from the clone on, and a retried step finds what it began (the
task it follows is in its heartbeat). A Proxmox task is polled one provider call at a time, with a
heartbeat between polls, so a cancel or a lost worker is seen within a poll."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.blocking import settle_in_thread
from contracts.hosting.vm_names import VmSteps
from contracts.hosting.vms import (
    PLATFORM_TAG,
    CloneInput,
    ConfigureInput,
    GrowDiskInput,
    LocatedVm,
    LocateInput,
    NodeChoice,
    NodePlan,
    NodePlanInput,
    PowerInput,
    PowerResult,
    RecordVmInput,
    RemoveVmInput,
    RemoveVmResult,
    VmRef,
    marked_by_job,
    marked_for_user,
)
from core.settings import Settings
from providers import proxmox
from providers.proxmox import ProxmoxVE, TaskStatus, task_failure
from store.db import Database
from store.hosting import vms as store

log = structlog.get_logger(__name__)
T = TypeVar("T")
# The state each power action leaves the VM in (status, qmpstatus), to skip one already done.
_DONE = {
    "start": ("running", "running"),
    "stop": ("stopped", None),
    "shutdown": ("stopped", None),
    "suspend": ("running", "paused"),
    "resume": ("running", "running"),
}


class VmActivities:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db

    def all(self) -> list[Callable]:
        return [
            self.plan_nodes,
            self.clone,
            self.configure,
            self.grow_disk,
            self.power,
            self.ha_add,
            self.ha_remove,
            self.remove,
            self.locate,
            self.record,
        ]

    async def _pve(self, fn: Callable[[ProxmoxVE], T]) -> T:
        """One provider call in a thread (a cancel waits for it to return)."""
        return await settle_in_thread(lambda: fn(proxmox.client(self.settings)))

    async def _follow(
        self,
        what: str,
        upid: str,
        poll_seconds: float,
        between: Callable[[], Awaitable[Any]] | None = None,
    ) -> TaskStatus:
        """Polls the task to its end, heartbeating its UPID (a retry resumes following it); a task
        that stopped with an error is a final failure."""
        while True:
            status = await self._pve(lambda pve: pve.task_status(upid))
            activity.heartbeat(upid)
            if not status.running:
                if not status.ok:
                    raise task_failure(what, status)
                return status
            if between is not None:
                await between()
            await asyncio.sleep(poll_seconds)

    @staticmethod
    def _resumed_upid() -> str | None:
        details = activity.info().heartbeat_details
        return str(details[0]) if details else None

    # --- create ------------------------------------------------------------------------------

    @activity.defn(name=VmSteps.PLAN_NODES)
    async def plan_nodes(self, inp: NodePlanInput) -> NodePlan:
        """The allowed nodes, those with room first and most free memory (then disk) first."""
        spec = inp.spec
        known = {node.name: node for node in await self._pve(lambda pve: pve.nodes())}
        choices: list[tuple[tuple, NodeChoice]] = []
        for name in inp.nodes:
            node = known.get(name)
            if node is None:
                choices.append(
                    ((1, 0, 0, name), NodeChoice(node=name, fits=False, reason="no such node"))
                )
                continue
            reason = _no_room(node, spec.memory_mb, spec.disksize_gb, spec.cores)
            rank = (1 if reason else 0, -node.memory_free_mib, -node.disk_free_gib, name)
            choices.append((rank, NodeChoice(node=name, fits=not reason, reason=reason)))
        return NodePlan(nodes=[choice for _, choice in sorted(choices, key=lambda c: c[0])])

    @activity.defn(name=VmSteps.CLONE)
    async def clone(self, inp: CloneInput) -> str:
        """Clones the os_type's template of the node as the VM, under one of the node's clone
        slots, and follows the clone to its end. A VM already under that id is adopted only if it
        carries this job's mark and is on this node; the node's room is checked before cloning."""
        job_id, node, vmid = inp.job_id, inp.node, inp.vm_id
        lease = timedelta(seconds=self.settings.hosting_vm_slot_lease_seconds)
        while (
            await store.take_clone_slot(
                self.db, node, job_id, self.settings.hosting_vm_clones_per_node, lease
            )
        ) is None:
            activity.heartbeat()
            await asyncio.sleep(inp.poll_seconds)

        async def renew() -> None:
            await store.renew_clone_slot(self.db, node, job_id, lease)

        try:
            upid = self._resumed_upid()
            if upid is None:
                where = await self._pve(lambda pve: pve.locate(vmid))
                if where is not None:
                    await self._adopt(inp, where, renew)
                    return node
                await self._check_room(inp)
                template = await self._pve(lambda pve: pve.template(node, inp.os_type))
                upid = await self._pve(
                    lambda pve: pve.clone(
                        node,
                        template,
                        vmid,
                        inp.vm_name,
                        description=inp.description,
                    )
                )
                activity.heartbeat(upid)
            await self._follow(f"cloning VM {vmid} on {node}", upid, inp.poll_seconds, renew)
            return node
        finally:
            await store.give_back_clone_slot(self.db, node, job_id)

    async def _check_room(self, inp: CloneInput) -> None:
        nodes = {node.name: node for node in await self._pve(lambda pve: pve.nodes())}
        node = nodes.get(inp.node)
        reason = (
            "no such node"
            if node is None
            else _no_room(node, inp.spec.memory_mb, inp.spec.disksize_gb, inp.spec.cores)
        )
        if reason:
            raise ApplicationError(
                f"node {inp.node} has no room for VM {inp.vm_id}: {reason}",
                type="ProxmoxCapacity",
                non_retryable=True,
            )

    async def _adopt(
        self, inp: CloneInput, where: str, renew: Callable[[], Awaitable[Any]]
    ) -> None:
        config = await self._pve(lambda pve: pve.config(where, inp.vm_id))
        if not marked_by_job(config.get("description"), inp.job_id):
            raise ApplicationError(
                f"VM id {inp.vm_id} is taken on node {where} by a VM this job did not make",
                type="VmIdTaken",
                non_retryable=True,
            )
        if where != inp.node:
            raise ApplicationError(
                f"this job's VM {inp.vm_id} is still on node {where}, not {inp.node}",
                type="ProxmoxRejected",
                non_retryable=True,
            )
        # An earlier attempt's clone, its task unknown (the worker died before its heartbeat):
        # wait until the clone's lock goes; a clone that failed meanwhile removed the VM.
        while (config.get("lock") or "") == "clone":
            activity.heartbeat()
            await renew()
            await asyncio.sleep(inp.poll_seconds)
            if await self._pve(lambda pve: pve.locate(inp.vm_id)) is None:
                raise ApplicationError(
                    f"the clone of VM {inp.vm_id} on {where} failed; cloning again",
                    type="ProxmoxBusy",
                )
            config = await self._pve(lambda pve: pve.config(where, inp.vm_id))

    @activity.defn(name=VmSteps.CONFIGURE)
    async def configure(self, inp: ConfigureInput) -> None:
        """Sets cores, memory, name and SSH keys (at once: `PUT …/config`); the platform's tag
        with them. Setting the same values again changes nothing."""
        await self._pve(
            lambda pve: pve.configure(
                inp.node,
                inp.vm_id,
                cores=inp.cores,
                memory_mib=inp.memory_mb,
                name=inp.vm_name,
                ssh_public_keys=inp.ssh_pub_key,
                tags=[PLATFORM_TAG],
            )
        )

    @activity.defn(name=VmSteps.GROW_DISK)
    async def grow_disk(self, inp: GrowDiskInput) -> float:
        """Grows the disk to `disksize_gb` unless it is that big already; answers its size."""
        upid = self._resumed_upid()
        if upid is None:
            size = await self._pve(lambda pve: pve.disk_gib(inp.node, inp.vm_id))
            if size >= inp.disksize_gb:
                return size
            upid = await self._pve(lambda pve: pve.grow_disk(inp.node, inp.vm_id, inp.disksize_gb))
            activity.heartbeat(upid)
        await self._follow(f"growing VM {inp.vm_id}'s disk", upid, inp.poll_seconds)
        return float(inp.disksize_gb)

    @activity.defn(name=VmSteps.POWER)
    async def power(self, inp: PowerInput) -> PowerResult:
        """Runs the power action unless the VM is in its state already (a reboot of a stopped VM
        starts it), and follows its task."""
        upid = self._resumed_upid()
        node = inp.node or await self._where(inp.vm_id)
        if upid is None:
            current = await self._pve(lambda pve: pve.status(node, inp.vm_id))
            action = inp.action
            if action == "reboot" and current.status != "running":
                action = "start"
            wanted = _DONE.get(action)
            if (
                wanted is not None
                and current.status == wanted[0]
                and (wanted[1] is None or current.qmpstatus == wanted[1])
            ):
                return PowerResult(node=node, changed=False)
            upid = await self._pve(lambda pve: pve.power(node, inp.vm_id, action))
            activity.heartbeat(upid)
        await self._follow(f"{inp.action} of VM {inp.vm_id}", upid, inp.poll_seconds)
        return PowerResult(node=node, changed=True)

    async def _where(self, vmid: int) -> str:
        node = await self._pve(lambda pve: pve.locate(vmid))
        if node is None:
            raise ApplicationError(
                f"VM {vmid} is not on the Proxmox cluster", type="NotFound", non_retryable=True
            )
        return node

    @activity.defn(name=VmSteps.HA_ADD)
    async def ha_add(self, inp: VmRef) -> bool:
        return await self._pve(lambda pve: pve.ha_add(inp.vm_id))

    @activity.defn(name=VmSteps.HA_REMOVE)
    async def ha_remove(self, inp: VmRef) -> bool:
        return await self._pve(lambda pve: pve.ha_remove(inp.vm_id))

    # --- existing VMs -------------------------------------------------------------------------

    @activity.defn(name=VmSteps.LOCATE)
    async def locate(self, inp: LocateInput) -> LocatedVm:
        """Where the VM is, its state and disk, and whether it carries the user's mark."""
        node = await self._pve(lambda pve: pve.locate(inp.vm_id))
        if node is None:
            return LocatedVm(found=False)
        config = await self._pve(lambda pve: pve.config(node, inp.vm_id))
        current = await self._pve(lambda pve: pve.status(node, inp.vm_id))
        disk = await self._pve(lambda pve: pve.disk_gib(node, inp.vm_id))
        return LocatedVm(
            found=True,
            node=node,
            owned=marked_for_user(config.get("description"), inp.userid),
            status=current.status,
            qmpstatus=current.qmpstatus,
            disksize_gb=disk,
            cores=_number(config.get("cores")),
            memory_mb=_number(config.get("memory")),
        )

    @activity.defn(name=VmSteps.REMOVE)
    async def remove(self, inp: RemoveVmInput) -> RemoveVmResult:
        """Removes the VM if it carries the mark asked for (this job's, or the user's): out of HA
        first, then stopped, then destroyed with its disks. A VM without it is left alone."""
        node = await self._pve(lambda pve: pve.locate(inp.vm_id))
        if node is None:
            return RemoveVmResult(outcome="gone")
        config = await self._pve(lambda pve: pve.config(node, inp.vm_id))
        description = config.get("description")
        owned = (inp.job_id is not None and marked_by_job(description, inp.job_id)) or (
            inp.userid is not None and marked_for_user(description, inp.userid)
        )
        if not owned:
            log.warning("vm not removed: not ours", vm_id=inp.vm_id, node=node)
            return RemoveVmResult(outcome="not_ours", node=node)
        await self._pve(lambda pve: pve.ha_remove(inp.vm_id))
        current = await self._pve(lambda pve: pve.status(node, inp.vm_id))
        if current.status == "running" or current.qmpstatus == "paused":
            upid = await self._pve(lambda pve: pve.power(node, inp.vm_id, "stop"))
            activity.heartbeat(upid)
            await self._follow(f"stopping VM {inp.vm_id}", upid, inp.poll_seconds)
        upid = await self._pve(lambda pve: pve.delete(node, inp.vm_id))
        if upid is not None:
            activity.heartbeat(upid)
            await self._follow(f"destroying VM {inp.vm_id}", upid, inp.poll_seconds)
        return RemoveVmResult(outcome="removed", node=node)

    @activity.defn(name=VmSteps.RECORD)
    async def record(self, inp: RecordVmInput) -> bool:
        return await store.update(
            self.db,
            inp.vm_id,
            inp.job_id,
            status=inp.status,
            node=inp.node,
            cores=inp.cores,
            memory_mb=inp.memory_mb,
            disksize_gb=inp.disksize_gb,
            access_url=inp.access_url,
        )


def _number(value: object) -> int | None:
    """A PVE config number (PVE answers some as strings), or None when it is not set."""
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _no_room(node: proxmox.NodeCapacity, memory_mb: int, disk_gb: int, cores: int) -> str:
    """Why the node cannot take the VM, or '' when it can."""
    if not node.online:
        return "offline"
    if cores > node.cores:
        return f"{cores} cores asked, the node has {node.cores}"
    if memory_mb > node.memory_free_mib:
        return f"{memory_mb} MiB of memory asked, {node.memory_free_mib} MiB free"
    if disk_gb > node.disk_free_gib:
        return f"{disk_gb} GiB of disk asked, {node.disk_free_gib:.0f} GiB free"
    return ""


def activities(settings: Settings, db: Database) -> list[Callable]:
    return VmActivities(settings, db).all()
