"""Proxmox VE through `proxmoxer` (https backend, API token auth): what a VM workflow needs, one
API call per method, so an activity heartbeats between calls (a task is polled once per
`task_status`, never waited on here). Blocking: call it from a thread.

Built from settings: the local cloud's Proxmox port and CA by default, a cluster node and its
`pve-root-ca.pem` in production; TLS is always verified. The token's value is read from Secret
Manager (`proxmox_token_secret`) and never logged nor put in an error; with the local cloud and no
such secret, the emulator's development token stands in.

Errors become Temporal failures (`as_temporal_failures`): PVE refuses with 400 (parameters), 401,
403, and 500 carrying its text as the HTTP reason phrase; those are final, except the ones that
end by themselves (a VM locked by a running task, a lock timeout), which are retried, as is no
answer or a 5xx proxy error (a node that does not answer: 595/596/599, 502–504). A refused clone
or change for lack of room is `ProxmoxCapacity`, so a workflow tries the next node.
"""

from __future__ import annotations

import re
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from google.api_core import exceptions as gexc
from proxmoxer import ProxmoxAPI, ResourceException
from temporalio.exceptions import ApplicationError

from contracts.jobs import without_endpoints
from core.settings import Settings
from providers.google.errors import as_temporal_failures as google_failures
from providers.google.secret_manager import SecretStore

# The local cloud emulator's one token value (localcloud/apis/proxmox.py, LOCAL_TOKEN_SECRET):
# used only when Proxmox is the local cloud and Secret Manager holds no token.
LOCAL_CLOUD_TOKEN = "5b0c1f7e-6a0d-4c47-9d3e-localcloud01"
ACTIONS = ("start", "stop", "shutdown", "reboot", "suspend", "resume")
_UPID = re.compile(r"^UPID:([^:]+):[0-9A-Fa-f]{8}:[0-9A-Fa-f]{8}:[0-9A-Fa-f]{8}:[^:]*:[^:]*:[^:]*:")
GIB = 1024**3
MIB = 1024**2


@dataclass(frozen=True)
class NodeCapacity:
    name: str
    online: bool
    cores: int
    memory_total_mib: int
    memory_used_mib: int
    disk_total_gib: float
    disk_used_gib: float

    @property
    def memory_free_mib(self) -> int:
        return max(self.memory_total_mib - self.memory_used_mib, 0)

    @property
    def disk_free_gib(self) -> float:
        return max(self.disk_total_gib - self.disk_used_gib, 0.0)

    def fits(self, memory_mib: int, disk_gib: float, cores: int) -> bool:
        return (
            self.online
            and cores <= self.cores
            and memory_mib <= self.memory_free_mib
            and disk_gib <= self.disk_free_gib
        )


@dataclass(frozen=True)
class TaskStatus:
    upid: str
    node: str
    running: bool
    # "OK" when it succeeded, the error text when it failed, None while it runs.
    exitstatus: str | None

    @property
    def ok(self) -> bool:
        return not self.running and self.exitstatus == "OK"


@dataclass(frozen=True)
class VmStatus:
    vmid: int
    node: str
    name: str
    status: str  # running | stopped
    qmpstatus: str  # running | paused | stopped …
    ha_managed: bool
    lock: str | None
    cores: int
    memory_mib: int
    disk_gib: float
    uptime: int


@dataclass(frozen=True)
class VncTicket:
    """A console ticket: `ticket` is a credential for the user it is handed to; never log it."""

    user: str
    ticket: str
    port: int
    cert: str
    upid: str
    password: str | None = None


def node_of_upid(upid: str) -> str:
    match = _UPID.match(upid)
    if not match:
        raise ApplicationError(
            f"not a Proxmox task id: {upid[:80]!r}", type="InvalidArgument", non_retryable=True
        )
    return match.group(1)


def _token_value(settings: Settings) -> str:
    store = SecretStore(settings)
    try:
        with google_failures("reading the Proxmox API token from Secret Manager"):
            try:
                return store.access(settings.proxmox_token_secret)
            except gexc.NotFound:
                if not settings.proxmox_is_local:
                    raise
    except ApplicationError as error:
        if error.type != "NotFound":
            raise
        # The secret's name, never its value.
        raise ApplicationError(
            f"the Proxmox API token secret {settings.proxmox_token_secret!r} does not exist in "
            "Secret Manager",
            type="NotFound",
            non_retryable=True,
        ) from None
    return LOCAL_CLOUD_TOKEN


_clients: dict[tuple, ProxmoxAPI] = {}
_lock = threading.Lock()


def client(settings: Settings) -> ProxmoxVE:
    """One proxmoxer session per endpoint, token and CA (no I/O at construction with a token; the
    token's value is read from Secret Manager once per process)."""
    ca = settings.resolved_proxmox_ca_bundle
    key = (
        settings.resolved_proxmox_endpoint,
        settings.proxmox_token_id,
        settings.proxmox_token_secret,
        str(ca) if ca else None,
        settings.proxmox_timeout_seconds,
        settings.gcp_project,
    )
    with _lock:
        api = _clients.get(key)
    if api is None:
        user, _, token_name = settings.proxmox_token_id.partition("!")
        api = ProxmoxAPI(
            settings.resolved_proxmox_endpoint,
            user=user,
            token_name=token_name,
            token_value=_token_value(settings),
            verify_ssl=str(ca) if ca else True,
            timeout=settings.proxmox_timeout_seconds,
        )
        with _lock:
            api = _clients.setdefault(key, api)
    return ProxmoxVE(api, settings.proxmox_storage)


def forget_clients() -> None:
    """Drops the cached sessions (a rotated token is read again on the next call)."""
    with _lock:
        _clients.clear()


class ProxmoxVE:
    def __init__(self, api: ProxmoxAPI, storage: str = "local-lvm") -> None:
        self.api = api
        self.storage = storage

    # --- cluster ----------------------------------------------------------------------------

    def next_vmid(self, preferred: int | None = None) -> int:
        """The lowest free VM id, or `preferred` if it is free (a taken one is `AlreadyExists`).
        Not reserved: a clone with it may still find it taken by a concurrent clone."""
        with as_temporal_failures("asking Proxmox for a free VM id"):
            if preferred is None:
                return int(self.api.cluster.nextid.get())
            return int(self.api.cluster.nextid.get(vmid=preferred))

    def nodes(self) -> list[NodeCapacity]:
        """Every node's cores, memory and guest storage, total and committed, in node order."""
        with as_temporal_failures("reading the Proxmox cluster's resources"):
            resources = self.api.cluster.resources.get()
        storage = {
            item.get("node"): item
            for item in resources
            if item.get("type") == "storage" and item.get("storage") == self.storage
        }
        found = []
        for item in resources:
            if item.get("type") != "node":
                continue
            disk = storage.get(item["node"], {})
            found.append(
                NodeCapacity(
                    name=item["node"],
                    online=item.get("status") == "online",
                    cores=int(item.get("maxcpu") or 0),
                    memory_total_mib=int(item.get("maxmem") or 0) // MIB,
                    memory_used_mib=int(item.get("mem") or 0) // MIB,
                    disk_total_gib=int(disk.get("maxdisk") or 0) / GIB,
                    disk_used_gib=int(disk.get("disk") or 0) / GIB,
                )
            )
        return sorted(found, key=lambda node: node.name)

    def locate(self, vmid: int) -> str | None:
        """The node a VM is on, None when the cluster has no such VM."""
        with as_temporal_failures(f"looking for VM {vmid}"):
            resources = self.api.cluster.resources.get(type="vm")
        for item in resources:
            if int(item.get("vmid", -1)) == vmid:
                return item.get("node")
        return None

    def template(self, node: str, os_type: str) -> int:
        """The vmid of the node's template for an `os_type` (a template VM named `tpl-<os_type>`)."""
        with as_temporal_failures(f"listing the VMs of node {node}"):
            vms = self.api.nodes(node).qemu.get()
        wanted = f"tpl-{os_type.lower()}"
        for vm in vms:
            if vm.get("template") and vm.get("name") == wanted:
                return int(vm["vmid"])
        raise ApplicationError(
            f"node {node} has no template for {os_type!r} ({wanted})",
            type="NotFound",
            non_retryable=True,
        )

    # --- VMs --------------------------------------------------------------------------------

    def clone(
        self,
        node: str,
        template: int,
        newid: int,
        name: str,
        description: str | None = None,
        target: str | None = None,
    ) -> str:
        """A full clone of `template` (on `node`) as VM `newid` on `target` (default `node`);
        returns the task's UPID. The VM exists (locked) at once; a failed task removes it."""
        with as_temporal_failures(f"cloning VM {newid} on node {node}"):
            return (
                self.api.nodes(node)
                .qemu(template)
                .clone.post(
                    newid=newid,
                    name=name,
                    description=description,
                    target=target,
                    full=1,
                    storage=self.storage,
                )
            )

    def task_status(self, upid: str) -> TaskStatus:
        """One poll of a task (its node is in its UPID)."""
        node = node_of_upid(upid)
        with as_temporal_failures(f"reading task {upid.split(':')[5]} on node {node}"):
            data = self.api.nodes(node).tasks(upid).status.get()
        running = data.get("status") != "stopped"
        return TaskStatus(
            upid=upid,
            node=node,
            running=running,
            exitstatus=None if running else str(data.get("exitstatus") or ""),
        )

    def configure(
        self,
        node: str,
        vmid: int,
        *,
        cores: int | None = None,
        memory_mib: int | None = None,
        name: str | None = None,
        ssh_public_keys: str | None = None,
        description: str | None = None,
        tags: list[str] | None = None,
    ) -> None:
        """Sets what is given, at once (`PUT …/config`); `ssh_public_keys` is one key per line."""
        values: dict[str, Any] = {
            "cores": cores,
            "memory": memory_mib,
            "name": name,
            "description": description,
            "tags": ";".join(tags) if tags else None,
        }
        if ssh_public_keys:
            # PVE wants the keys URL-encoded (then form-encoded again on the wire), spaces as %20.
            values["sshkeys"] = urllib.parse.quote(ssh_public_keys.strip() + "\n", safe="")
        with as_temporal_failures(f"configuring VM {vmid} on node {node}"):
            self.api.nodes(node).qemu(vmid).config.put(**values)

    def config(self, node: str, vmid: int) -> dict[str, Any]:
        with as_temporal_failures(f"reading VM {vmid}'s configuration on node {node}"):
            return self.api.nodes(node).qemu(vmid).config.get()

    def grow_disk(self, node: str, vmid: int, size_gib: int, disk: str = "scsi0") -> str:
        """Grows the disk to `size_gib` in total (PVE never shrinks one: a smaller size is a final
        error); returns the task's UPID."""
        with as_temporal_failures(f"resizing VM {vmid}'s disk on node {node}"):
            return self.api.nodes(node).qemu(vmid).resize.put(disk=disk, size=f"{size_gib}G")

    def disk_gib(self, node: str, vmid: int, disk: str = "scsi0") -> float:
        """The disk's size, from the VM's configuration (`local-lvm:vm-100-disk-0,size=32G`)."""
        value = str(self.config(node, vmid).get(disk, ""))
        match = re.search(r"(?:^|,)size=(\d+(?:\.\d+)?)([KMGT]?)", value)
        if not match:
            return 0.0
        factor = {"": 1 / GIB, "K": 1 / MIB, "M": 1 / 1024, "G": 1, "T": 1024}[match.group(2)]
        return float(match.group(1)) * factor

    def status(self, node: str, vmid: int) -> VmStatus:
        with as_temporal_failures(f"reading VM {vmid}'s status on node {node}"):
            data = self.api.nodes(node).qemu(vmid).status.current.get()
        return VmStatus(
            vmid=int(data["vmid"]),
            node=node,
            name=str(data.get("name") or ""),
            status=str(data.get("status")),
            qmpstatus=str(data.get("qmpstatus") or data.get("status")),
            ha_managed=bool((data.get("ha") or {}).get("managed")),
            lock=data.get("lock"),
            cores=int(data.get("cpus") or data.get("maxcpu") or 0),
            memory_mib=int(data.get("maxmem") or 0) // MIB,
            disk_gib=int(data.get("maxdisk") or 0) / GIB,
            uptime=int(data.get("uptime") or 0),
        )

    def power(self, node: str, vmid: int, action: str) -> str:
        """start, stop, shutdown, reboot, suspend or resume; returns the task's UPID (a VM already
        in that state makes the task fail, as PVE does, except for stop)."""
        if action not in ACTIONS:
            raise ApplicationError(
                f"unknown VM action {action!r}", type="InvalidArgument", non_retryable=True
            )
        with as_temporal_failures(f"{action} of VM {vmid} on node {node}"):
            return self.api.nodes(node).qemu(vmid).status(action).post()

    def delete(self, node: str, vmid: int) -> str | None:
        """Destroys a stopped VM with its disks and its HA resource; the task's UPID, or None when
        the VM is already gone from that node."""
        with as_temporal_failures(f"deleting VM {vmid} on node {node}"):
            try:
                return (
                    self.api.nodes(node)
                    .qemu(vmid)
                    .delete(purge=1, **{"destroy-unreferenced-disks": 1})
                )
            except ResourceException as error:
                if error.status_code == 500 and "does not exist" in str(error.content):
                    return None
                raise

    # --- HA and console ---------------------------------------------------------------------

    def ha_add(self, vmid: int, state: str = "started", max_restart: int = 1) -> bool:
        """Makes the VM an HA resource; False when it already is one."""
        with as_temporal_failures(f"adding VM {vmid} to HA"):
            try:
                self.api.cluster.ha.resources.post(
                    sid=f"vm:{vmid}", state=state, max_restart=max_restart, max_relocate=1
                )
            except ResourceException as error:
                if "already defined" in str(error.content):
                    return False
                raise
        return True

    def ha_remove(self, vmid: int) -> bool:
        """Takes the VM out of HA; False when it was not an HA resource."""
        with as_temporal_failures(f"removing VM {vmid} from HA"):
            try:
                self.api.cluster.ha.resources(f"vm:{vmid}").delete()
            except ResourceException as error:
                if "not HA managed" in str(error.content):
                    return False
                raise
        return True

    def ha_resources(self) -> list[dict[str, Any]]:
        with as_temporal_failures("listing HA resources"):
            return self.api.cluster.ha.resources.get()

    def vnc_ticket(self, node: str, vmid: int) -> VncTicket:
        """A noVNC console ticket (websocket) for a running VM."""
        with as_temporal_failures(f"opening a console to VM {vmid} on node {node}"):
            data = self.api.nodes(node).qemu(vmid).vncproxy.post(websocket=1)
        return VncTicket(
            user=str(data["user"]),
            ticket=str(data["ticket"]),
            port=int(data["port"]),
            cert=str(data.get("cert") or ""),
            upid=str(data["upid"]),
            password=data.get("password"),
        )


# PVE's texts for conditions that end by themselves: a task holds the VM, a lock wait timed out.
_TRANSIENT = re.compile(r"VM is locked|got timeout|can't lock file|timeout", re.IGNORECASE)
_CAPACITY = re.compile(r"not enough|MAX \d+ vcpus|out of memory|no space left", re.IGNORECASE)
_ALREADY = re.compile(r"already exists|already defined", re.IGNORECASE)
_MISSING = re.compile(r"does not exist|no such", re.IGNORECASE)


def task_failure(what: str, status: TaskStatus) -> ApplicationError:
    """The failure for a task that stopped with an error (final: the work it did is undone by PVE
    or left to the workflow's compensation); a capacity error is `ProxmoxCapacity`."""
    text = without_endpoints(status.exitstatus or "no exit status")
    kind = "ProxmoxCapacity" if _CAPACITY.search(text) else "ProxmoxTaskFailed"
    return ApplicationError(
        f"{what}: task on node {status.node} failed: {text}", type=kind, non_retryable=True
    )


@contextmanager
def as_temporal_failures(what: str) -> Iterator[None]:
    try:
        yield
    except ResourceException as error:
        status = error.status_code
        detail = str(error.content or error.status_message or status)
        if error.errors:
            detail += f" {error.errors}"
        message = f"{what}: Proxmox answered {status}: {without_endpoints(detail)}"
        if status in (502, 503, 504) or status >= 595 or status == 429:
            raise ApplicationError(message, type="ProxmoxUnavailable") from None
        if status == 401:
            # A rotated token is read again from Secret Manager by the next client.
            forget_clients()
            raise ApplicationError(message, type="Unauthenticated", non_retryable=True) from None
        if status == 403:
            raise ApplicationError(message, type="PermissionDenied", non_retryable=True) from None
        if status == 400:
            kind = "AlreadyExists" if _ALREADY.search(detail) else "InvalidArgument"
            raise ApplicationError(message, type=kind, non_retryable=True) from None
        if _TRANSIENT.search(detail):
            raise ApplicationError(message, type="ProxmoxBusy") from None
        if _CAPACITY.search(detail):
            raise ApplicationError(message, type="ProxmoxCapacity", non_retryable=True) from None
        if _ALREADY.search(detail):
            raise ApplicationError(message, type="AlreadyExists", non_retryable=True) from None
        if _MISSING.search(detail):
            raise ApplicationError(message, type="NotFound", non_retryable=True) from None
        raise ApplicationError(message, type="ProxmoxRejected", non_retryable=True) from None
    except requests.exceptions.SSLError:
        raise ApplicationError(
            f"{what}: the Proxmox API's TLS certificate is not trusted (proxmox_ca_bundle)",
            type="ProxmoxTlsUntrusted",
            non_retryable=True,
        ) from None
    except requests.exceptions.RequestException as error:
        reason = "timed out" if "timed out" in str(error).lower() else "connection failed"
        raise ApplicationError(
            f"{what}: Proxmox did not answer ({reason})", type="ProxmoxUnavailable"
        ) from None
