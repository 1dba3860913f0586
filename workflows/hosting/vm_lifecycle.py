"""UpdateVM, ControlVM and DeleteVM (seed 001): jobs on an existing VM, taking turns with every
other job on it. Each first finds the VM and checks it carries its user's mark: a VM without it is
never changed; a delete then only unlinks the row and says so.

An update or a control that ends undone (failed, cancelled) puts the VM back as it found it: its
cores and memory, its power state (running, stopped or paused) and its row. A disk already grown
stays grown (Proxmox never shrinks a disk): the compensation report says so (`kept`) and the row
records the size the disk has."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.hosting.vm_names import VmOperations, VmSteps, VmWorkflows
    from contracts.hosting.vms import (
        CONTROL,
        ConfigureInput,
        ControlVmInput,
        DeleteVmInput,
        GrowDiskInput,
        LocatedVm,
        LocateInput,
        PowerInput,
        PowerResult,
        RecordVmInput,
        RemoveVmInput,
        RemoveVmResult,
        UpdateVmInput,
    )

from workflows.hosting.vms import polling, vm_subject
from workflows.job import TrackedJob
from workflows.saga import Saga
from workflows.steps import step, step_to_the_end
from workflows.tracking import JobTracker

_TASK = timedelta(minutes=10)
_QUICK = timedelta(minutes=1)


async def _locate(vm_id: int, userid: str) -> LocatedVm:
    return await step(
        VmSteps.LOCATE, LocateInput(vm_id=vm_id, userid=userid), LocatedVm, start_to_close=_QUICK
    )


def _owned(vm_id: int, userid: str, found: LocatedVm) -> str:
    if not found.found or found.node is None:
        raise ApplicationError(
            f"VM {vm_id} is not on the Proxmox cluster", type="NotFound", non_retryable=True
        )
    if not found.owned:
        raise ApplicationError(
            f"VM {vm_id} on {found.node} does not carry user {userid}'s mark: left untouched",
            type="NotOwned",
            non_retryable=True,
        )
    return found.node


async def _nothing() -> None:
    """What a kept change needs at compensation: nothing (it is reported, not undone)."""


async def _record(**changes: Any) -> None:
    await step(VmSteps.RECORD, RecordVmInput(**changes), bool, start_to_close=_QUICK)


def _row_status(found: LocatedVm) -> str:
    """The row's status for a VM in this power state (CONTROL's statuses)."""
    if found.status == "stopped":
        return "stopped"
    return "paused" if found.qmpstatus == "paused" else "enabled"


async def _power_back(vm_id: int, userid: str, before: LocatedVm, poll_seconds: float) -> None:
    """Undo of a power change: the VM brought back to the power state it had (found again: HA
    may have moved it; nothing asked of Proxmox when it is in that state)."""
    now = await _locate(vm_id, userid)
    if not now.found or now.node is None:
        return
    if (now.status, now.qmpstatus) == (before.status, before.qmpstatus):
        return
    if before.status == "stopped":
        await _power(vm_id, now.node, "stop", poll_seconds)
    elif before.qmpstatus == "paused":
        if now.status != "running":
            await _power(vm_id, now.node, "start", poll_seconds)
        await _power(vm_id, now.node, "suspend", poll_seconds)
    elif now.qmpstatus == "paused":
        await _power(vm_id, now.node, "resume", poll_seconds)
    else:
        await _power(vm_id, now.node, "start", poll_seconds)


async def _power(vm_id: int, node: str, action: str, poll_seconds: float) -> PowerResult:
    return await step(
        VmSteps.POWER,
        PowerInput(vm_id=vm_id, node=node, action=action, poll_seconds=poll_seconds),
        PowerResult,
        start_to_close=_TASK,
        heartbeat=polling(poll_seconds),
    )


@workflow.defn(name=VmWorkflows.UPDATE_VM)
class UpdateVm(TrackedJob):
    """Cores and memory set, the disk grown (never shrunk: the API refuses that before any job),
    then a forced restart (stop, start) so the VM runs with them."""

    @workflow.init
    def __init__(self, inp: UpdateVmInput) -> None:
        self.tracker = JobTracker(
            VmOperations.UPDATE_VM, vm_subject(inp.vm_id), {"vm_id": str(inp.vm_id)}
        )

    @workflow.run
    async def run(self, inp: UpdateVmInput) -> dict[str, Any]:
        return await self.run_saga(lambda saga: self._update(inp, saga))

    async def _update(self, inp: UpdateVmInput, saga: Saga) -> dict[str, Any]:
        track = self.tracker
        track.phase("locating", 5, f"finding VM {inp.vm_id}")
        found = await _locate(inp.vm_id, inp.userid)
        node = _owned(inp.vm_id, inp.userid, found)
        if inp.disksize_gb is not None and inp.disksize_gb < (found.disksize_gb or 0):
            raise ApplicationError(
                f"VM {inp.vm_id}'s disk is {found.disksize_gb:.0f} GB; a disk is never shrunk",
                type="InvalidArgument",
                non_retryable=True,
            )
        # Undone newest first: power state, (the disk stays), cores and memory, then the row, which
        # records the disk's real size.
        saga.on_failure(
            f"put VM {inp.vm_id}'s row back (status, cores, memory) with its disk's real size",
            lambda: self._row_back(inp, found),
        )
        track.phase("configuring", 20, f"setting the resources of VM {inp.vm_id} on {node}")
        if inp.cores is not None or inp.memory_mb is not None:
            saga.on_failure(
                f"set VM {inp.vm_id}'s cores and memory back to "
                f"{found.cores} and {found.memory_mb} MB",
                lambda: step(
                    VmSteps.CONFIGURE,
                    ConfigureInput(
                        job_id=workflow.info().workflow_id,
                        node=node,
                        vm_id=inp.vm_id,
                        cores=found.cores,
                        memory_mb=found.memory_mb,
                    ),
                    start_to_close=_QUICK,
                ),
            )
            await step(
                VmSteps.CONFIGURE,
                ConfigureInput(
                    job_id=workflow.info().workflow_id,
                    node=node,
                    vm_id=inp.vm_id,
                    cores=inp.cores,
                    memory_mb=inp.memory_mb,
                ),
                start_to_close=_QUICK,
            )
        if inp.disksize_gb is not None:
            track.phase("resizing", 40, f"growing VM {inp.vm_id}'s disk to {inp.disksize_gb} GB")
            saga.keeps(
                f"VM {inp.vm_id}'s disk: left at the size its growth from "
                f"{found.disksize_gb or 0:.0f} to {inp.disksize_gb} GB reached "
                "(Proxmox never shrinks a disk)",
                _nothing,
            )
            await step(
                VmSteps.GROW_DISK,
                GrowDiskInput(
                    node=node,
                    vm_id=inp.vm_id,
                    disksize_gb=inp.disksize_gb,
                    poll_seconds=inp.poll_seconds,
                ),
                float,
                start_to_close=_TASK,
                heartbeat=polling(inp.poll_seconds),
            )
        track.phase("restarting", 60, f"restarting VM {inp.vm_id} (stop, then start)")
        saga.on_failure(
            f"bring VM {inp.vm_id} back to its power state ({_row_status(found)})",
            lambda: _power_back(inp.vm_id, inp.userid, found, inp.poll_seconds),
        )
        await _power(inp.vm_id, node, "stop", inp.poll_seconds)
        await _power(inp.vm_id, node, "start", inp.poll_seconds)
        await _record(
            vm_id=inp.vm_id,
            status="enabled",
            node=node,
            cores=inp.cores,
            memory_mb=inp.memory_mb,
            disksize_gb=inp.disksize_gb,
        )
        return track.complete(
            {
                "vm_id": inp.vm_id,
                "node": node,
                "cores": inp.cores,
                "memory_mb": inp.memory_mb,
                "disksize_gb": inp.disksize_gb,
                "restarted": True,
            },
            f"VM {inp.vm_id} updated and restarted",
        )

    @staticmethod
    async def _row_back(inp: UpdateVmInput, before: LocatedVm) -> None:
        now = await _locate(inp.vm_id, inp.userid)
        await _record(
            vm_id=inp.vm_id,
            status=_row_status(before),
            cores=before.cores,
            memory_mb=before.memory_mb,
            disksize_gb=int(now.disksize_gb) if now.disksize_gb is not None else None,
        )


@workflow.defn(name=VmWorkflows.CONTROL_VM)
class ControlVm(TrackedJob):
    """start, stop, shutdown, restart/reboot, pause, resume: one Proxmox power task."""

    @workflow.init
    def __init__(self, inp: ControlVmInput) -> None:
        self.tracker = JobTracker(
            VmOperations.CONTROL_VM,
            vm_subject(inp.vm_id),
            {"vm_id": str(inp.vm_id), "action": inp.action},
        )

    @workflow.run
    async def run(self, inp: ControlVmInput) -> dict[str, Any]:
        return await self.run_saga(lambda saga: self._control(inp, saga))

    async def _control(self, inp: ControlVmInput, saga: Saga) -> dict[str, Any]:
        track = self.tracker
        if inp.action not in CONTROL:
            raise ApplicationError(
                f"unknown VM action {inp.action!r}", type="InvalidArgument", non_retryable=True
            )
        action, status = CONTROL[inp.action]
        track.phase("locating", 10, f"finding VM {inp.vm_id}")
        found = await _locate(inp.vm_id, inp.userid)
        node = _owned(inp.vm_id, inp.userid, found)
        # Undone newest first: the power state, then the row.
        saga.on_failure(
            f"put VM {inp.vm_id}'s row back to {_row_status(found)}",
            lambda: _record(vm_id=inp.vm_id, status=_row_status(found)),
        )
        saga.on_failure(
            f"bring VM {inp.vm_id} back to its power state ({_row_status(found)})",
            lambda: _power_back(inp.vm_id, inp.userid, found, inp.poll_seconds),
        )
        track.phase(inp.action, 40, f"{inp.action} VM {inp.vm_id} on {node}")
        done = await _power(inp.vm_id, node, action, inp.poll_seconds)
        await _record(vm_id=inp.vm_id, status=status, node=done.node)
        return track.complete(
            {
                "vm_id": inp.vm_id,
                "node": done.node,
                "action": inp.action,
                "status": status,
                "changed": done.changed,
            },
            f"VM {inp.vm_id}: {inp.action} done" + ("" if done.changed else " (already so)"),
        )


@workflow.defn(name=VmWorkflows.DELETE_VM)
class DeleteVm(TrackedJob):
    """Seed order: the HA resource removed first, then the VM (stopped, destroyed with its disks),
    then the row marked `deleted`. A VM without the user's mark is not touched: the row is
    unlinked (marked deleted) and the result says so."""

    @workflow.init
    def __init__(self, inp: DeleteVmInput) -> None:
        self.tracker = JobTracker(
            VmOperations.DELETE_VM, vm_subject(inp.vm_id), {"vm_id": str(inp.vm_id)}
        )

    @workflow.run
    async def run(self, inp: DeleteVmInput) -> dict[str, Any]:
        return await self.run_saga(lambda saga: self._delete(inp, saga))

    async def _delete(self, inp: DeleteVmInput, _saga: Saga) -> dict[str, Any]:
        track = self.tracker
        track.phase("deleting", 20, f"removing VM {inp.vm_id} from HA, then from its node")
        await _record(vm_id=inp.vm_id, status="deleting")
        # A destroy cannot be undone nor left half-way: a cancel waits for it.
        removed, _cancelled = await step_to_the_end(
            VmSteps.REMOVE,
            RemoveVmInput(vm_id=inp.vm_id, userid=inp.userid, poll_seconds=inp.poll_seconds),
            RemoveVmResult,
            start_to_close=_TASK,
        )
        await _record(vm_id=inp.vm_id, status="deleted")
        message = {
            "removed": f"VM {inp.vm_id} removed from HA and destroyed on {removed.node}",
            "gone": f"VM {inp.vm_id} was already gone from the cluster",
            "not_ours": f"VM {inp.vm_id} on {removed.node} does not carry the user's mark: "
            "left on the cluster, the row unlinked",
        }[removed.outcome]
        return track.complete(
            {"vm_id": inp.vm_id, "outcome": removed.outcome, "node": removed.node}, message
        )
