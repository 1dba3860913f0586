"""Hosting's cleanup after a force-cancel (terminate): what the terminated job made, found by its
own mark only, never anything without it.

- A Proxmox VM: the VM of the job's `hosting_vms` row (the VMID its create reserved), removed only
  while its description carries `conneskills job=<job id>` (out of HA, stopped, destroyed); the
  row, still `creating`, becomes `failed` (as a compensated create's), and the clone slots the job
  held are given back at once rather than when their lease runs out.
- A Docker service: the containers, networks and volumes labelled `conneskills.job-id=<job id>`
  (and managed by the platform), the service's workspace while its owner file names the job, and
  the service's row while it is that job's and still `creating`.

Both start from the job's row (a VM's or a service's), so a job of another system, or a hosting
job that made nothing, leaves Proxmox and Docker unasked. A terminated update, control or delete
made nothing of its own (the VM or service carries its create's mark), so nothing is found for it."""

from __future__ import annotations

import shutil

import structlog
from docker.errors import NotFound
from temporalio import activity

from activities.blocking import settle_in_thread
from activities.hosting.services import ServiceActivities, _owner
from activities.hosting.vms import VmActivities
from contracts.hosting.services import JOB_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE
from contracts.hosting.vm_names import HostingCleanupSteps
from contracts.hosting.vms import RemoveVmInput
from contracts.job_cleanup import JobCleanupInput, JobCleanupResult
from core.settings import Settings
from store.db import Database
from store.hosting import services as service_store
from store.hosting import vms as vm_store

log = structlog.get_logger(__name__)


class HostingJobCleanup:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.vms = VmActivities(settings, db)
        self.services = ServiceActivities(settings, db)

    @activity.defn(name=HostingCleanupSteps.CLEANUP_AFTER_TERMINATE)
    async def cleanup_after_terminate(self, inp: JobCleanupInput) -> JobCleanupResult:
        result = JobCleanupResult()
        await self._vm(inp.job_id, result)
        await self._service(inp.job_id, result)
        return result

    async def _vm(self, job_id: str, result: JobCleanupResult) -> None:
        async with self.db.transaction() as session:
            row = await vm_store.of_job(session, job_id)
            vm_id, status = (row.id, row.status) if row is not None else (None, None)
        if await vm_store.give_back_clone_slots_of_job(self.db, job_id):
            result.removed.append(f"clone slot of job {job_id}")
        if vm_id is None:
            return
        removed = await self.vms.remove(
            RemoveVmInput(
                vm_id=vm_id,
                job_id=job_id,
                poll_seconds=self.settings.hosting_vm_task_poll_seconds,
            )
        )
        if removed.outcome == "removed":
            result.removed.append(f"proxmox vm {vm_id} on {removed.node}")
        elif removed.outcome == "not_ours":
            log.warning("vm left: not the terminated job's", vm_id=vm_id, job_id=job_id)
        if status == "creating":
            await vm_store.update(self.db, vm_id, job_id, status="failed")

    async def _service(self, job_id: str, result: JobCleanupResult) -> None:
        # The API writes a create's row before its job starts, and the compensation deletes it
        # last: no row, no service job (or nothing left of it), so Docker is not asked.
        async with self.db.transaction() as session:
            service_id = await service_store.id_of_job(session, job_id)
            row = await service_store.get(session, service_id) if service_id is not None else None
            status = row.status if row is not None else None
        if service_id is None:
            return
        removed = await self.services._docker(
            f"removing what job {job_id} made in Docker", _remove_by_job, job_id
        )
        result.removed.extend(removed)
        root = self.services.workspace(service_id)
        owner = _owner(root)
        if owner is not None and owner.get("job_id") == job_id:
            await settle_in_thread(shutil.rmtree, root, True)
            result.removed.append(f"workspace of service {service_id}")
        if status == "creating":
            async with self.db.transaction() as session:
                if await service_store.remove(session, service_id, job_id):
                    result.removed.append(f"hosting service {service_id} record")


def _remove_by_job(docker, job_id: str) -> list[str]:
    """Containers, then networks, then volumes carrying the job's label (and the platform's)."""
    filters = {"label": [f"{JOB_LABEL}={job_id}", f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}"]}
    removed = []
    for item in docker.api.containers(all=True, filters=filters):
        try:
            docker.api.remove_container(item["Id"], force=True, v=False)
        except NotFound:
            continue
        removed.append(f"docker container {item['Names'][0].lstrip('/')}")
    for network in docker.api.networks(filters=filters):
        try:
            docker.api.remove_network(network["Id"])
        except NotFound:
            continue
        removed.append(f"docker network {network['Name']}")
    for volume in docker.api.volumes(filters=filters).get("Volumes") or []:
        try:
            docker.api.remove_volume(volume["Name"], force=True)
        except NotFound:
            continue
        removed.append(f"docker volume {volume['Name']}")
    return removed
