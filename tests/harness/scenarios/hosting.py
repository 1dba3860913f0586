"""The hosting system's scenarios (seed 001): Docker services and Proxmox VMs, created, removed and
changed in place."""

from __future__ import annotations

import io
import zipfile

from contracts.hosting.services import Workflows as Hosting
from contracts.hosting.vm_names import VmWorkflows as HostingVms
from tests.harness.platform import HarnessPlatform
from tests.harness.scenarios.base import Prepared, Scenario, finished, name, started

# CreateDockerService (hosting, seed 001): a hosting user's service from a small ZIP, Static and
# MySQL plus Filebrowser (admin_pass): its workspace (source, Compose file, secrets, owner file)
# under the platform's data dir, the upload it extracts and removes, and through the Docker Engine
# a labelled network, volumes and three containers, then its row `running`. Tokens: the user and the
# service's name; the integer service id (`cs-svc-<id>`, the workspace's directory) is normalised
# by the snapshot.
SITE = {"index.html": b"<h1>harness</h1>\n", "css/site.css": b"body{}\n"}


def _site_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in SITE.items():
            archive.writestr(name, data)
    return buffer.getvalue()


async def _prepare_docker_service(platform: HarnessPlatform) -> Prepared:
    prepared = Prepared([name("hu-"), name("hs-")])
    made = await platform.api.post(
        "/users", data={"userid": prepared.tokens[0], "username": "Harness User"}
    )
    assert made.status_code == 201, made.text
    return prepared


async def _start_docker_service(platform: HarnessPlatform, prepared: Prepared) -> str:
    userid, name = prepared.tokens
    fields = [("userid", userid), ("service_name", name), ("admin_pass", "harness-pass")]
    fields += [("service_types", kind) for kind in ("Static", "MySQL")]
    files = [(key, (None, value)) for key, value in fields]
    files.append(("zip_file", ("site.zip", _site_zip(), "application/zip")))
    response = await platform.api.post("/service", files=files)
    if response.status_code == 202:
        prepared.extra["service_id"] = response.json()["service_id"]
    return await started(response)


# ControlDockerService+delete: removes a created service (containers, network, volumes, workspace,
# row), run to the end even when cancelled.
async def _prepare_created_docker_service(platform: HarnessPlatform) -> Prepared:
    prepared = await _prepare_docker_service(platform)
    await finished(platform, await _start_docker_service(platform, prepared))
    return prepared


async def _start_docker_service_control(
    platform: HarnessPlatform, prepared: Prepared, action: str
) -> str:
    path = f"/control-service/{prepared.extra['service_id']}/{action}"
    return await started(await platform.api.post(path))


async def _start_docker_service_delete(platform: HarnessPlatform, prepared: Prepared) -> str:
    return await _start_docker_service_control(platform, prepared, "delete")


# CreateVM (hosting, seed 001): a hosting user's Proxmox VM cloned from the node's Ubuntu template,
# configured (cores, memory, name, SSH key, tag), its disk grown, started, made an HA resource, then
# its row `enabled`. Tokens: the user and the VM's name; the VMID the API reserves (`proxmox.vms
# <vmid>`, `proxmox.ha vm:<vmid>`) is normalised by the snapshot. Small sizes, so any node has room.
VM_SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx0ZXN0a2V5 harness@example.com"


async def _prepare_vm(platform: HarnessPlatform) -> Prepared:
    prepared = Prepared([name("hu-"), name("hv-")])
    made = await platform.api.post(
        "/users", data={"userid": prepared.tokens[0], "username": "Harness User"}
    )
    assert made.status_code == 201, made.text
    return prepared


async def _start_vm(platform: HarnessPlatform, prepared: Prepared) -> str:
    userid, name = prepared.tokens
    form = {
        "userid": userid,
        "vm_name": name,
        "os_type": "Ubuntu",
        "cores": "1",
        "memory": "1024",
        "disksize": "20",
        "ssh_pub_key": VM_SSH_KEY,
    }
    response = await platform.api.post("/vm", data=form)
    if response.status_code == 202:
        prepared.extra["vm_id"] = response.json()["vm_id"]
    return await started(response)


# DeleteVM (kind remove): such a VM, created and completed, then `POST /control-vm/{id}/delete`:
# out of HA, stopped, destroyed with its disks, the row marked `deleted` (a ledger row the
# snapshot leaves out, so the row reads as removed).
async def _prepare_created_vm(platform: HarnessPlatform) -> Prepared:
    prepared = await _prepare_vm(platform)
    await finished(platform, await _start_vm(platform, prepared))
    return prepared


async def _start_vm_delete(platform: HarnessPlatform, prepared: Prepared) -> str:
    path = f"/control-vm/{prepared.extra['vm_id']}/delete"
    return await started(await platform.api.post(path))


# ControlDockerService+restart (kind change): such a service, created and running, then
# `POST /control-service/{id}/restart`: its containers restarted and healthy again, the row
# `running`. One that fails or is cancelled starts the containers again and puts the row back.
async def _start_docker_service_restart(platform: HarnessPlatform, prepared: Prepared) -> str:
    return await _start_docker_service_control(platform, prepared, "restart")


# ControlDockerService+stop: `POST /control-service/{id}/stop` (the seed's `shutdown`): the
# containers stopped, the row `stopped`; one undone starts them again and the row says `running`.
async def _start_docker_service_stop(platform: HarnessPlatform, prepared: Prepared) -> str:
    return await _start_docker_service_control(platform, prepared, "stop")


# UpdateVM (kind change): a created VM (1 core, 1024 MB, 20 GB), then `POST /vm/update/{id}` to 2
# cores, 2048 MB and a 30 GB disk: configured, grown, restarted (stop, start), its row updated. One
# that fails or is cancelled sets cores and memory back, powers the VM back to running and puts the
# row back; the disk stays at whatever size it reached (kept, and the row records that size).
async def _start_vm_update(platform: HarnessPlatform, prepared: Prepared) -> str:
    form = {"cores": "2", "memory": "2048", "disksize": "30"}
    path = f"/vm/update/{prepared.extra['vm_id']}"
    return await started(await platform.api.post(path, data=form))


# ControlVM+stop / ControlVM+restart (kind change): a created, running VM, then
# `POST /control-vm/{id}/stop` (stopped, row `stopped`) or `…/restart` (a reboot, row `enabled`).
# One undone brings the VM back to running and the row back to `enabled`.
async def _start_vm_control(platform: HarnessPlatform, prepared: Prepared, action: str) -> str:
    path = f"/control-vm/{prepared.extra['vm_id']}/{action}"
    return await started(await platform.api.post(path))


async def _start_vm_stop(platform: HarnessPlatform, prepared: Prepared) -> str:
    return await _start_vm_control(platform, prepared, "stop")


async def _start_vm_restart(platform: HarnessPlatform, prepared: Prepared) -> str:
    return await _start_vm_control(platform, prepared, "restart")


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        Hosting.CREATE_DOCKER_SERVICE,
        "create",
        _prepare_docker_service,
        _start_docker_service,
    ),
    Scenario(
        Hosting.CONTROL_DOCKER_SERVICE,
        "remove",
        _prepare_created_docker_service,
        _start_docker_service_delete,
        variant="delete",
    ),
    Scenario(HostingVms.CREATE_VM, "create", _prepare_vm, _start_vm),
    Scenario(HostingVms.DELETE_VM, "remove", _prepare_created_vm, _start_vm_delete),
    Scenario(
        Hosting.CONTROL_DOCKER_SERVICE,
        "change",
        _prepare_created_docker_service,
        _start_docker_service_restart,
        variant="restart",
    ),
    Scenario(
        Hosting.CONTROL_DOCKER_SERVICE,
        "change",
        _prepare_created_docker_service,
        _start_docker_service_stop,
        variant="stop",
    ),
    Scenario(
        HostingVms.UPDATE_VM,
        "change",
        _prepare_created_vm,
        _start_vm_update,
        kept=("proxmox.vms config.scsi0", "platform.hosting_vms disksize_gb"),
    ),
    Scenario(HostingVms.CONTROL_VM, "change", _prepare_created_vm, _start_vm_stop, variant="stop"),
    Scenario(
        HostingVms.CONTROL_VM,
        "change",
        _prepare_created_vm,
        _start_vm_restart,
        variant="restart",
    ),
)
