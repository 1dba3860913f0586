"""CreateVM (seed 001): a Proxmox VM with node failover. The VMID comes reserved with the job (the
API's allocator); the nodes are tried most free capacity first, and on each: room checked → the
os_type's template cloned (under a clone slot of that node) → cores, memory, name and SSH key set →
disk grown → started → made an HA resource. A node that refuses or fails has what this job made
there removed before the next is tried; when every node failed the job fails with each node's
reason, nothing of it left on any node, and its row marked `failed`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from temporalio.exceptions import is_cancelled_exception

    from contracts.hosting.vm_names import VmOperations, VmSteps, VmWorkflows
    from contracts.hosting.vms import (
        CloneInput,
        ConfigureInput,
        CreateVmInput,
        GrowDiskInput,
        NodePlan,
        NodePlanInput,
        PowerInput,
        PowerResult,
        RecordVmInput,
        RemoveVmInput,
        RemoveVmResult,
        VmRef,
        ownership_mark,
    )
    from contracts.jobs import JobSubject

from workflows.job import TrackedJob
from workflows.saga import Saga, failure_message
from workflows.steps import job_heartbeat, step
from workflows.tracking import JobTracker

# One attempt of each step, per its work: a clone of a template (a full disk copy), a resize or a
# power task, a single API call or row write.
_CLONE = timedelta(minutes=30)
_TASK = timedelta(minutes=10)
_QUICK = timedelta(minutes=1)


def vm_subject(vm_id: int) -> JobSubject:
    """Jobs on one VM take turns (create, update, control, delete)."""
    return JobSubject(kind="vm", name=str(vm_id))


def polling(poll_seconds: float) -> timedelta:
    """The heartbeat timeout of a step that heartbeats once per poll."""
    return job_heartbeat(at_least=timedelta(seconds=poll_seconds * 3))


@workflow.defn(name=VmWorkflows.CREATE_VM)
class CreateVm(TrackedJob):
    @workflow.init
    def __init__(self, inp: CreateVmInput) -> None:
        self.inp = inp
        self.tracker = JobTracker(
            VmOperations.CREATE_VM,
            vm_subject(inp.vm_id),
            {"vm_id": str(inp.vm_id), "userid": inp.userid, "vm_name": inp.vm_name},
        )

    @workflow.run
    async def run(self, inp: CreateVmInput) -> dict[str, Any]:
        return await self.run_saga(lambda saga: self._create(inp, saga))

    def owned_from_the_start(self, saga: Saga) -> None:
        # The row the API reserved for this job: a job that ends undone leaves it `failed` (rows
        # are never deleted, so the VMID is never handed out again).
        saga.on_failure(
            f"mark VM {self.inp.vm_id}'s row failed",
            lambda: step(
                VmSteps.RECORD,
                RecordVmInput(
                    vm_id=self.inp.vm_id, status="failed", job_id=workflow.info().workflow_id
                ),
                bool,
                start_to_close=_QUICK,
            ),
        )

    def _remove(self, inp: CreateVmInput, node: str | None) -> Any:
        return step(
            VmSteps.REMOVE,
            RemoveVmInput(
                vm_id=inp.vm_id,
                node=node,
                job_id=workflow.info().workflow_id,
                poll_seconds=inp.poll_seconds,
            ),
            RemoveVmResult,
            start_to_close=_TASK,
            heartbeat=polling(inp.poll_seconds),
            may_hold=False,
        )

    async def _create(self, inp: CreateVmInput, saga: Saga) -> dict[str, Any]:
        track = self.tracker
        track.phase("planning", 5, f"choosing a node for VM {inp.vm_id} ({inp.vm_name})")
        plan = await step(
            VmSteps.PLAN_NODES,
            NodePlanInput(nodes=inp.nodes, spec=inp.spec),
            NodePlan,
            start_to_close=_QUICK,
        )
        # Wherever a node attempt left it, the VM this job made goes when the job ends undone.
        saga.on_failure(
            f"remove VM {inp.vm_id} wherever this job made it",
            lambda: self._remove(inp, None),
        )
        reasons: dict[str, str] = {}
        created_on: str | None = None
        candidates = [choice for choice in plan.nodes if choice.fits]
        for choice in plan.nodes:
            if not choice.fits:
                reasons[choice.node] = f"no room: {choice.reason}"
        for index, choice in enumerate(candidates):
            node = choice.node
            try:
                await self._on_node(inp, node, 10 + index * 15)
            except (ActivityError, ApplicationError) as error:
                if is_cancelled_exception(error) or workflow.cancellation_reason() is not None:
                    raise
                reasons[node] = failure_message(error)
                track.log(f"node {node} failed: {reasons[node]}; removing what this job made there")
                removed = await self._remove(inp, node)
                track.log(f"VM {inp.vm_id} on {node}: {removed.outcome}")
                continue
            created_on = node
            break
        if created_on is None:
            summary = "; ".join(f"{node}: {why}" for node, why in reasons.items())
            raise ApplicationError(
                f"no node could create VM {inp.vm_id}: {summary}",
                {"nodes": reasons},
                type="NoNodeAvailable",
                non_retryable=True,
            )

        track.phase("recording", 95, f"VM {inp.vm_id} runs on {created_on}")
        await step(
            VmSteps.RECORD,
            RecordVmInput(
                vm_id=inp.vm_id,
                status="enabled",
                node=created_on,
                cores=inp.spec.cores,
                memory_mb=inp.spec.memory_mb,
                disksize_gb=inp.spec.disksize_gb,
                job_id=workflow.info().workflow_id,
            ),
            bool,
            start_to_close=_QUICK,
        )
        return track.complete(
            {
                "vm_id": inp.vm_id,
                "vm_name": inp.vm_name,
                "userid": inp.userid,
                "node": created_on,
                "status": "enabled",
                "os_type": inp.os_type,
                "cores": inp.spec.cores,
                "memory_mb": inp.spec.memory_mb,
                "disksize_gb": inp.spec.disksize_gb,
                "failed_nodes": reasons,
            },
            f"VM {inp.vm_id} created on {created_on}",
        )

    async def _on_node(self, inp: CreateVmInput, node: str, progress: int) -> None:
        track = self.tracker
        job_id = workflow.info().workflow_id
        track.label("node", node, f"trying node {node}")
        track.phase("cloning", progress, f"cloning the {inp.os_type} template on {node}")
        await step(
            VmSteps.CLONE,
            CloneInput(
                job_id=job_id,
                userid=inp.userid,
                node=node,
                vm_id=inp.vm_id,
                vm_name=inp.vm_name,
                os_type=inp.os_type,
                spec=inp.spec,
                description=ownership_mark(job_id, inp.userid),
                poll_seconds=inp.poll_seconds,
            ),
            str,
            start_to_close=_CLONE,
            heartbeat=polling(inp.poll_seconds),
            may_hold=False,
        )
        track.phase(
            "configuring", progress + 5, f"setting cores, memory, name and SSH key on {node}"
        )
        await step(
            VmSteps.CONFIGURE,
            ConfigureInput(
                job_id=job_id,
                node=node,
                vm_id=inp.vm_id,
                vm_name=inp.vm_name,
                cores=inp.spec.cores,
                memory_mb=inp.spec.memory_mb,
                ssh_pub_key=inp.ssh_pub_key,
            ),
            start_to_close=_QUICK,
            may_hold=False,
        )
        await step(
            VmSteps.GROW_DISK,
            GrowDiskInput(
                node=node,
                vm_id=inp.vm_id,
                disksize_gb=inp.spec.disksize_gb,
                poll_seconds=inp.poll_seconds,
            ),
            float,
            start_to_close=_TASK,
            heartbeat=polling(inp.poll_seconds),
            may_hold=False,
        )
        track.phase("starting", progress + 10, f"starting VM {inp.vm_id} on {node}")
        await step(
            VmSteps.POWER,
            PowerInput(vm_id=inp.vm_id, node=node, action="start", poll_seconds=inp.poll_seconds),
            PowerResult,
            start_to_close=_TASK,
            heartbeat=polling(inp.poll_seconds),
            may_hold=False,
        )
        if inp.ha:
            await step(
                VmSteps.HA_ADD, VmRef(vm_id=inp.vm_id), bool, start_to_close=_QUICK, may_hold=False
            )
