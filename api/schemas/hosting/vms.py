"""Proxmox VMs (seed 001): the forms of `POST /vm` and `PUT|POST /vm/update/{vm_id}`, and what
the VM routes answer. Form values are text: a number must be written as one (`disksize=abc` and
`disksize=10.5` are 400s), and the bounds that depend on the cluster come from settings."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from api.schemas.base import RequestModel
from api.schemas.conditions import DriftField, ResourceCondition
from api.schemas.hosting.users import USERID_PATTERN
from api.schemas.jobs import JobResponse
from api.schemas.types import UtcDateTime
from contracts.hosting.vms import OsType

_WHOLE = re.compile(r"[0-9]{1,9}")


def _whole_number(value: Any) -> Any:
    """A form's number: digits only (no sign, fraction, exponent or spaces)."""
    if isinstance(value, str):
        if not _WHOLE.fullmatch(value):
            raise ValueError("must be a whole number written in digits")
        return int(value)
    return value


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


FormInt = Annotated[int, BeforeValidator(_whole_number)]
VM_NAME_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$"
# One or more OpenSSH public keys, one per line (no control characters but the line breaks).
SSH_KEY_PATTERN = (
    r"^(?:(?:ssh-|ecdsa-|sk-)[A-Za-z0-9@.-]+ [A-Za-z0-9+/=]+(?: [^\x00-\x1f\x7f]*)?\r?\n?)+$"
)


class VmCreate(RequestModel):
    """The form of `POST /vm`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "userid": "u-1001",
                    "vm_name": "web-1",
                    "os_type": "Ubuntu",
                    "disksize": "40",
                    "memory": "4096",
                    "cores": "2",
                }
            ]
        }
    )

    userid: str = Field(pattern=USERID_PATTERN, description="The VM's owner (a hosting user).")
    vm_name: str = Field(
        pattern=VM_NAME_PATTERN,
        description="The VM's name: a DNS label (letters, digits, `-`), 1-63 characters.",
    )
    os_type: Annotated[OsType, BeforeValidator(_lower)] = Field(
        description="The template to clone: ubuntu, debian, centos, rocky or windows (any case)."
    )
    disksize: FormInt | None = Field(
        default=None, ge=10, le=500, description="Disk size in GB, 10-500 (default: settings)."
    )
    memory: FormInt | None = Field(
        default=None, description="Memory in MB, within the platform's bounds (settings)."
    )
    cores: FormInt | None = Field(
        default=None, description="CPU cores, 1 to the platform's maximum (settings)."
    )
    ssh_pub_key: str | None = Field(
        default=None,
        max_length=16 * 1024,
        pattern=SSH_KEY_PATTERN,
        description="OpenSSH public key(s), one per line.",
    )


class VmUpdate(RequestModel):
    """The form of `PUT|POST /vm/update/{vm_id}`: at least one field."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"disksize": "60", "memory": "8192", "cores": "4"}]}
    )

    disksize: FormInt | None = Field(
        default=None, ge=10, le=500, description="The new disk size in GB (only larger)."
    )
    memory: FormInt | None = Field(default=None, description="The new memory in MB.")
    cores: FormInt | None = Field(default=None, description="The new number of cores.")


class VmJob(JobResponse):
    """A VM job's 202 answer: the job (with its links) and the VM it works on."""

    vm_id: int = Field(description="The VM's Proxmox VMID (`GET /vm/{vm_id}`).")


class VmLive(BaseModel):
    """The VM as Proxmox sees it now."""

    node: str
    status: str
    qmpstatus: str
    ha_managed: bool
    lock: str | None = None
    cores: int
    memory_mb: int
    disk_gb: float
    uptime: int


class VmDetail(BaseModel):
    id: int = Field(description="The VM's Proxmox VMID.")
    vm_id: int
    userid: str
    vm_name: str
    os_type: str
    node: str | None = None
    status: str = Field(description="creating, enabled, stopped, paused, deleting, deleted, failed")
    cores: int | None = None
    memory_mb: int | None = None
    disksize_gb: int | None = None
    access_url: str | None = None
    job_id: str | None = Field(None, description="The job that created it.")
    live: VmLive | None = Field(None, description="Proxmox's view; null when it cannot be read.")
    live_error: str | None = Field(None, description="Why `live` is null, when it is.")
    conditions: list[ResourceCondition] = Field(
        default_factory=list,
        description="As the drift observer last saw the VM (`Ready`, `Synced`, `Drifted`); empty "
        "until it has.",
    )
    drift: list[DriftField] = Field(
        default_factory=list,
        description="`cores` or `memory_mb` changed on the cluster outside the platform; empty: "
        "in sync.",
    )
    observed_at: UtcDateTime | None = None


class VmConsole(BaseModel):
    """A noVNC console ticket (websocket) for the VM. `ticket` is a credential: hand it to the
    console only; the platform neither logs nor keeps it."""

    vm_id: int
    node: str
    host: str = Field(description="The Proxmox API endpoint the console connects through.")
    port: int
    user: str
    ticket: str
    cert: str
    upid: str
    websocket_path: str = Field(
        description="`/api2/json/nodes/{node}/qemu/{vmid}/vncwebsocket` (with `port` and the "
        "URL-encoded `vncticket`)."
    )
