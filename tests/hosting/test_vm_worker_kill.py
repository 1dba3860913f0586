"""A worker killed with SIGKILL in the middle of a VM's clone: another worker resumes the job
(the clone step follows the task its heartbeat recorded, or adopts the VM carrying its mark), and
the cluster ends with exactly one VM for the request."""

from __future__ import annotations

import uuid

import httpx

from contracts.hosting.vm_names import VmSteps
from providers import proxmox
from tests.helpers.hosting_vms import vms_named
from tests.helpers.platform import own_platform, wait_for_job, wait_for_pending_activity


async def test_a_worker_killed_mid_clone_leaves_exactly_one_vm(
    client, settings, localcloud, localcloud_settings, data_dir
):
    pve = proxmox.client(localcloud_settings)
    localcloud.set_proxmox_task_seconds(4.0)
    overrides = {
        "localcloud_proxmox_port": settings.localcloud_proxmox_port,
        "proxmox_ca_bundle": settings.proxmox_ca_bundle,
        "hosting_vm_task_poll_seconds": 0.2,
    }
    try:
        async with own_platform(
            data_dir, settings.temporal_address, localcloud.url, overrides
        ) as own:
            api: httpx.AsyncClient = own.api
            userid = f"u-{uuid.uuid4().hex[:8]}"
            assert (
                await api.post("/users", data={"userid": userid, "username": "K"})
            ).status_code == 201
            name = f"kill-{uuid.uuid4().hex[:8]}"
            answer = await api.post(
                "/vm",
                data={"userid": userid, "vm_name": name, "os_type": "debian", "memory": "1024"},
            )
            assert answer.status_code == 202, answer.text
            job = answer.json()
            await wait_for_pending_activity(client, job["job_id"], VmSteps.CLONE, seconds=60)
            own.kill_worker()
            localcloud.set_proxmox_task_seconds(0.3)
            own.restart_worker()
            done = await wait_for_job(api, job["job_id"], seconds=120)
            assert done["status"] == "completed", done
            placed = vms_named(pve, name)
            assert placed == [(done["result"]["node"], job["vm_id"])]
            deleted = (await api.post(f"/control-vm/{job['vm_id']}/delete")).json()
            assert (await wait_for_job(api, deleted["job_id"], seconds=60))["status"] == "completed"
    finally:
        localcloud.set_proxmox_task_seconds(1.0)
