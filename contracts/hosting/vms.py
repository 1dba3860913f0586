"""Typed data of the hosting system's VM jobs (seed 001). No credential crosses here: the Proxmox
token stays in the provider, and a console ticket goes from the API to its caller directly."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

# The os_type values `POST /vm` accepts; each node has a template VM `tpl-<os_type>` for each.
OS_TYPES = ("ubuntu", "debian", "centos", "rocky", "windows")
OsType = Literal["ubuntu", "debian", "centos", "rocky", "windows"]
# The actions of `POST /control-vm/{vm_id}/{action}`: the seed's (start, shutdown, pause, delete)
# and the usual others. `delete` is a DeleteVM job, the rest a ControlVM job.
VM_ACTIONS = ("start", "stop", "shutdown", "restart", "reboot", "pause", "resume", "delete")
PowerAction = Literal["start", "stop", "shutdown", "reboot", "suspend", "resume"]
# What each control action asks Proxmox, and the row status once it is done.
CONTROL = {
    "start": ("start", "enabled"),
    "stop": ("stop", "stopped"),
    "shutdown": ("shutdown", "stopped"),
    "restart": ("reboot", "enabled"),
    "reboot": ("reboot", "enabled"),
    "pause": ("suspend", "paused"),
    "resume": ("resume", "enabled"),
}
# The ownership mark: every VM the platform makes carries it in its description (set by the clone
# itself, so a VM never exists unmarked) and in its tags.
MARK_PREFIX = "conneskills"
PLATFORM_TAG = "conneskills"


def ownership_mark(job_id: str, userid: str) -> str:
    return f"{MARK_PREFIX} job={job_id} user={userid}"


def marked_by_job(description: str | None, job_id: str) -> bool:
    return f" job={job_id} " in f" {description or ''} "


def marked_for_user(description: str | None, userid: str) -> bool:
    text = f" {description or ''} "
    return f" {MARK_PREFIX} " in text and f" user={userid} " in text


class VmSpec(BaseModel):
    """What a VM is made of (also what an update asks for)."""

    cores: int = Field(ge=1, le=1024)
    memory_mb: int = Field(ge=16)
    disksize_gb: int = Field(ge=1, le=64 * 1024)


class CreateVmInput(BaseModel):
    vm_id: int
    userid: str
    vm_name: str
    os_type: OsType
    spec: VmSpec
    # Public keys only (never a secret), one per line.
    ssh_pub_key: str | None = Field(default=None, max_length=16 * 1024)
    nodes: list[str]
    ha: bool = True
    poll_seconds: float = 1.0


class UpdateVmInput(BaseModel):
    vm_id: int
    userid: str
    cores: int | None = None
    memory_mb: int | None = None
    disksize_gb: int | None = None
    poll_seconds: float = 1.0


class ControlVmInput(BaseModel):
    vm_id: int
    userid: str
    action: str
    poll_seconds: float = 1.0


class DeleteVmInput(BaseModel):
    vm_id: int
    userid: str
    poll_seconds: float = 1.0


class NodePlanInput(BaseModel):
    nodes: list[str]
    spec: VmSpec


class NodeChoice(BaseModel):
    node: str
    fits: bool
    # Why it does not fit (offline, memory, disk, cores); empty when it fits.
    reason: str = ""


class NodePlan(BaseModel):
    """The candidate nodes, most free capacity first (those without room last, with why)."""

    nodes: list[NodeChoice]


class CloneInput(BaseModel):
    job_id: str
    userid: str
    node: str
    vm_id: int
    vm_name: str
    os_type: OsType
    spec: VmSpec
    # The ownership mark the clone writes into the VM's description.
    description: str
    poll_seconds: float = 1.0


class ConfigureInput(BaseModel):
    job_id: str
    node: str
    vm_id: int
    vm_name: str | None = None
    cores: int | None = None
    memory_mb: int | None = None
    ssh_pub_key: str | None = None


class GrowDiskInput(BaseModel):
    node: str
    vm_id: int
    disksize_gb: int
    poll_seconds: float = 1.0


class PowerInput(BaseModel):
    vm_id: int
    # The node as recorded; the VM is located again when it moved (HA) or it is unknown.
    node: str | None = None
    action: PowerAction
    poll_seconds: float = 1.0


class PowerResult(BaseModel):
    node: str
    # False when the VM already was in the wanted state (nothing asked of Proxmox).
    changed: bool


class VmRef(BaseModel):
    vm_id: int


class RemoveVmInput(BaseModel):
    """Removes the VM only if it carries the mark: this job's (`job_id`, a compensation) or this
    user's (`userid`, a user-requested delete)."""

    vm_id: int
    node: str | None = None
    job_id: str | None = None
    userid: str | None = None
    poll_seconds: float = 1.0


class RemoveVmResult(BaseModel):
    outcome: Literal["removed", "gone", "not_ours"]
    node: str | None = None


class RecordVmInput(BaseModel):
    """Changes to the VM's row; None leaves a column as it is."""

    vm_id: int
    status: str | None = None
    node: str | None = None
    cores: int | None = None
    memory_mb: int | None = None
    disksize_gb: int | None = None
    access_url: str | None = None
    # Only if the row is still this job's (a create's row is removed by its own compensation).
    job_id: str | None = None


class LocateInput(BaseModel):
    vm_id: int
    userid: str


class LocatedVm(BaseModel):
    found: bool
    node: str | None = None
    # Whether the VM carries the user's mark (only such a VM is changed or deleted for them).
    owned: bool = False
    status: str | None = None
    qmpstatus: str | None = None
    disksize_gb: float | None = None
    # What a change puts back when it ends undone (UpdateVM's configure step).
    cores: int | None = None
    memory_mb: int | None = None
