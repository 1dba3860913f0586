"""Proxmox VE `api2/json` as proxmoxer 2.3 speaks it (WIRE_APIS §6), served on the local cloud's
TLS port only (`--proxmox-port`; proxmoxer always uses https).

A cluster of five nodes, sv1…sv5, of different sizes, each with one guest storage (`local-lvm`)
and, per `os_type`, a template VM (`tpl-<os_type>`, vmid `9<node number>0<os index>`: sv1's
ubuntu is 9100, sv2's windows 9204) that is protected from deletion. What it serves: nextid,
cluster resources, nodes and their status, a node's VMs, clone, config GET/POST/PUT, resize (grow
only), status current and start/stop/shutdown/reboot/suspend/resume, destroy, HA resources,
vncproxy, and task status.

On the wire: token auth (`Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET`; only the token
`LOCAL_TOKEN_ID` with `LOCAL_TOKEN_SECRET` exists), form-encoded bodies (JSON is read too),
parameters checked against each call's schema (an unknown one is refused, as PVE does), answers in
`{"data": …}`, errors as pve-api-daemon gives them: the message is the HTTP **reason phrase** (what
proxmoxer reports), the body `{"data": null, "message", "errors"?}`; a parameter error is 400
`Parameter verification failed.` with `errors: {param: text}`, anything else the handler refused is
500 with its text (`Configuration file 'nodes/sv1/qemu-server/105.conf' does not exist`).

Asynchronous calls answer a UPID (`UPID:node:pid:pstart:starttime:type:id:user:`); the task is
`running` for the local cloud's `proxmox_task_seconds`, then `stopped` with `exitstatus` `OK` or
the error. A clone's new VM exists at once with `lock: clone`; a failed clone task removes it.
Start/stop/shutdown/reboot/suspend/resume change the VM when their task ends; resize, config and
destroy apply at once (their task only reports), unless the task is to fail.

Capacity: a node's memory and its storage are committed to the VMs on it (their configured
memory, running or not; their disks, templates' included), the way the hosting system counts them
so a stopped VM can always start again. A clone, a config change or a resize that would go over
refuses with 500 (`not enough memory on node 'sv5' …`, `not enough free space on storage …`);
more cores than the node has refuses with PVE's `MAX n vcpus allowed per VM on this node`.

Faults (`POST /_localcloud/faults`) answer in this shape too; an `operation_error` fault makes
the next task a matching request starts end with its message as `exitstatus` (a node whose clones
fail: `method=POST`, `path_contains=/nodes/sv2/qemu/`, `body_contains=name=<vm name>`).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import urllib.parse
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from localcloud import naming, tls
from localcloud.errors import ApiError
from localcloud.faults import body_read_for_faults, faults_of
from localcloud.request_match import matches, request_target
from localcloud.serving import REASON_HEADER
from localcloud.state import LocalCloudState, state_of

API = "proxmox"
PREFIX = "/api2/json"
FAULT_PATH_PREFIX = PREFIX
# The one API token the emulator knows: the platform's defaults (providers/proxmox.py) use it.
LOCAL_TOKEN_ID = "root@pam!platform"
LOCAL_TOKEN_SECRET = "5b0c1f7e-6a0d-4c47-9d3e-localcloud01"
STORAGE = "local-lvm"
PVE_VERSION = "9.0.10"
GIB = 1024**3
MIB = 1024**2

# name -> (memory GiB, cores, guest storage GiB): sv1 and sv2 big, sv5 small.
NODES: dict[str, tuple[int, int, int]] = {
    "sv1": (128, 32, 2000),
    "sv2": (128, 32, 2000),
    "sv3": (64, 16, 1000),
    "sv4": (64, 16, 1000),
    "sv5": (32, 8, 500),
}
# os_type -> (PVE ostype, memory MiB, cores, disk GiB) of its template.
TEMPLATES: dict[str, tuple[str, int, int, int]] = {
    "ubuntu": ("l26", 2048, 2, 10),
    "debian": ("l26", 2048, 2, 10),
    "centos": ("l26", 2048, 2, 10),
    "rocky": ("l26", 2048, 2, 10),
    "windows": ("win11", 4096, 2, 40),
}
ACTIONS = ("start", "stop", "shutdown", "reboot", "suspend", "resume")
TASK_KEEP_SECONDS = 3600.0

router = APIRouter(prefix=PREFIX, tags=["proxmox"])


class PveError(Exception):
    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors


def _fail(message: str) -> PveError:
    return PveError(500, message)


def _param_error(errors: dict[str, str]) -> PveError:
    return PveError(400, "Parameter verification failed.", errors)


def _missing_config(node: str, vmid: int) -> PveError:
    return _fail(f"Configuration file 'nodes/{node}/qemu-server/{vmid}.conf' does not exist")


_HEADERS = {"server": "pve-api-daemon/3.0", "cache-control": "max-age=0"}
_MEDIA = "application/json;charset=UTF-8"


def _data(data: Any) -> JSONResponse:
    return JSONResponse({"data": data}, headers=_HEADERS, media_type=_MEDIA)


def error_response(status: int, message: str, errors: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"data": None, "message": f"{message}\n"}
    if errors:
        body["errors"] = errors
    # A reason phrase is one line of visible ASCII (h11 refuses anything else).
    reason = re.sub(r"[^\x20-\x7e]", " ", message).strip()[:200] or "error"
    headers = {**_HEADERS, REASON_HEADER.decode(): reason}
    return JSONResponse(body, status_code=status, headers=headers, media_type=_MEDIA)


def fault_response(error: ApiError) -> Response:
    """An injected fault, answered the way pve-api-daemon answers errors."""
    return error_response(error.http_status, error.message)


# --- parameters ------------------------------------------------------------------------------

Check = Callable[[str], Any]
_DNS_NAME = re.compile(
    r"^(?=.{1,255}$)[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$"
)
_URLENCODED = re.compile(r"^[-%a-zA-Z0-9_.!~*'()]*$")
_TAG = re.compile(r"^[a-z0-9_][a-z0-9_\-+.]*$", re.IGNORECASE)
_SIZE = re.compile(r"^(\+)?(\d+(?:\.\d+)?)([KMGT])?$")
_SSH_KEY = re.compile(r"^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp\d+|sk-\S+@openssh\.com) \S+")


def _integer(low: int, high: int) -> Check:
    def check(value: str) -> int:
        if not re.fullmatch(r"[+-]?\d+", value.strip()):
            raise ValueError(f"type check ('integer') failed - got '{value}'")
        number = int(value)
        if number < low:
            raise ValueError(f"value must have a minimum value of {low}")
        if number > high:
            raise ValueError(f"value must have a maximum value of {high}")
        return number

    return check


def _boolean(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"type check ('boolean') failed - got '{value}'")


def _text(max_length: int = 8192) -> Check:
    def check(value: str) -> str:
        if len(value) > max_length:
            raise ValueError(f"value may only be {max_length} characters long")
        return value

    return check


def _dns_name(value: str) -> str:
    if not _DNS_NAME.match(value):
        raise ValueError("invalid format - value does not look like a valid DNS name")
    return value


def _enum(*choices: str) -> Check:
    def check(value: str) -> str:
        if value not in choices:
            raise ValueError(
                f"value '{value}' does not have a value in the enumeration '{', '.join(choices)}'"
            )
        return value

    return check


def _sshkeys(value: str) -> str:
    if not _URLENCODED.match(value):
        raise ValueError("invalid format - invalid urlencoded string")
    keys = [line.strip() for line in urllib.parse.unquote(value).splitlines() if line.strip()]
    for key in keys:
        if not _SSH_KEY.match(key):
            raise ValueError("SSH public key validation error")
    return value


def _tags(value: str) -> str:
    for tag in re.split(r"[;, ]+", value.strip()):
        if tag and not _TAG.match(tag):
            raise ValueError(f"invalid format - invalid tag '{tag}'")
    return value


def _size(value: str) -> str:
    if not _SIZE.match(value):
        raise ValueError(f"value does not match the regex pattern - got '{value}'")
    return value


def _disk_key(value: str) -> str:
    if not re.fullmatch(r"(scsi|virtio|sata|ide)\d{1,2}", value):
        raise ValueError(f"value '{value}' does not have a value in the enumeration of disks")
    return value


async def _form(request: Request) -> dict[str, str]:
    raw = await request.body()
    if not raw:
        return {}
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = json.loads(raw)
        except ValueError:
            raise _param_error({"body": "invalid JSON"}) from None
        if not isinstance(body, dict):
            raise _param_error({"body": "expected an object"})
        return {
            k: str(int(v) if isinstance(v, bool) else v) for k, v in body.items() if v is not None
        }
    return dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))


def _params(
    given: dict[str, str], schema: dict[str, Check], required: tuple[str, ...] = ()
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for key, raw in given.items():
        check = schema.get(key)
        if check is None:
            errors[key] = (
                "property is not defined in schema and the schema does not allow additional "
                "properties"
            )
            continue
        try:
            values[key] = check(raw)
        except ValueError as error:
            errors[key] = str(error)
    for key in required:
        if key not in given:
            errors[key] = "property is missing and it is not optional"
    if errors:
        raise _param_error(errors)
    return values


_VMID = _integer(100, 999_999_999)


def _vmid_path(value: str) -> int:
    try:
        return _VMID(value)
    except ValueError as error:
        raise _param_error({"vmid": str(error)}) from None


# --- state -----------------------------------------------------------------------------------


def _doc(state: LocalCloudState) -> dict[str, Any]:
    doc = state.document(API)
    if "nodes" not in doc:
        doc["nodes"] = {
            name: {"maxmem": mem * GIB, "maxcpu": cores, "storage": disk * GIB, "online": True}
            for name, (mem, cores, disk) in NODES.items()
        }
        doc["vms"] = {}
        for number, node in enumerate(NODES, start=1):
            for index, (os_type, (ostype, memory, cores, disk)) in enumerate(TEMPLATES.items()):
                vmid = 9000 + number * 100 + index
                doc["vms"][str(vmid)] = {
                    "vmid": vmid,
                    "node": node,
                    "template": True,
                    "status": "stopped",
                    "qmpstatus": "stopped",
                    "config": {
                        "name": f"tpl-{os_type}",
                        "ostype": ostype,
                        "memory": memory,
                        "cores": cores,
                        "sockets": 1,
                        "scsi0": disk * GIB,
                        "description": f"{os_type} template (cloud-init)",
                        "protection": 1,
                        "template": 1,
                    },
                }
    doc.setdefault("tasks", {})
    doc.setdefault("ha", {})
    doc.setdefault("tokens", {LOCAL_TOKEN_ID: LOCAL_TOKEN_SECRET})
    return doc


def _node(doc: dict[str, Any], node: str) -> dict[str, Any]:
    found = doc["nodes"].get(node)
    if found is None:
        raise _fail(f"no such cluster node '{node}'")
    return found


def _vm(doc: dict[str, Any], node: str, vmid: int) -> dict[str, Any]:
    _node(doc, node)
    vm = doc["vms"].get(str(vmid))
    if vm is None or vm["node"] != node:
        raise _missing_config(node, vmid)
    return vm


def _unlocked(vm: dict[str, Any]) -> None:
    if vm.get("lock"):
        raise _fail(f"VM is locked ({vm['lock']})")


def _disks(config: dict[str, Any]) -> dict[str, int]:
    return {k: v for k, v in config.items() if re.fullmatch(r"(scsi|virtio|sata|ide)\d{1,2}", k)}


def _committed(doc: dict[str, Any], node: str) -> tuple[int, int]:
    """(memory bytes, storage bytes) the node's VMs hold."""
    memory = storage = 0
    for vm in doc["vms"].values():
        if vm["node"] != node:
            continue
        storage += sum(_disks(vm["config"]).values())
        if not vm.get("template"):
            memory += int(vm["config"]["memory"]) * MIB
    return memory, storage


def _check_capacity(
    doc: dict[str, Any],
    node: str,
    vmid: int,
    memory_mib: int = 0,
    disk_bytes: int = 0,
    cores: int = 0,
) -> None:
    """Refuses adding memory/disk (beyond what the VM already holds) or cores over the node."""
    info = _node(doc, node)
    if cores > info["maxcpu"]:
        raise _fail(f"MAX {info['maxcpu']} vcpus allowed per VM on this node")
    memory, storage = _committed(doc, node)
    free_memory = info["maxmem"] - memory
    if memory_mib * MIB > free_memory:
        raise _fail(
            f"not enough memory on node '{node}' for VM {vmid}: {memory_mib} MiB more needed, "
            f"{max(free_memory, 0) // MIB} MiB free"
        )
    free_storage = info["storage"] - storage
    if disk_bytes > free_storage:
        raise _fail(
            f"not enough free space on storage '{STORAGE}' on node '{node}' for VM {vmid}: "
            f"{_format_size(disk_bytes)} more needed, {_format_size(max(free_storage, 0))} free"
        )


def _format_size(size: int) -> str:
    """PVE's disk sizes: `32G`, `512M`, or fractional gigabytes (`10.5G`)."""
    for unit, factor in (("T", 1024**4), ("G", GIB), ("M", MIB), ("K", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size / GIB:.3f}".rstrip("0").rstrip(".") + "G"


def _render_config(vm: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for key, value in vm["config"].items():
        if key in _disks(vm["config"]):
            config[key] = f"{STORAGE}:{_disk_name(vm, key)},size={_format_size(value)}"
        elif key == "memory":
            # PVE 8.1+ keeps memory as a property string: "2048" (or "current=2048").
            config[key] = str(value)
        else:
            config[key] = value
    if vm.get("lock"):
        config["lock"] = vm["lock"]
    config["digest"] = _digest(vm)
    return config


def _disk_name(vm: dict[str, Any], key: str) -> str:
    index = sorted(_disks(vm["config"])).index(key)
    kind = "base" if vm.get("template") else "vm"
    return f"{kind}-{vm['vmid']}-disk-{index}"


def _digest(vm: dict[str, Any]) -> str:
    return hashlib.sha1(json.dumps(vm["config"], sort_keys=True).encode()).hexdigest()


def _token_user(request: Request) -> str:
    return request.state.pve_user


def _new_task(
    request: Request,
    doc: dict[str, Any],
    node: str,
    kind: str,
    ident: str,
    error: str | None = None,
    effect: dict[str, Any] | None = None,
) -> str:
    """Starts a task on `node`: it ends after `proxmox_task_seconds` with `error` (or an injected
    `operation_error`) as its exit status, else OK and its `effect` applied."""
    state = state_of(request)
    injected = faults_of(request).take_operation_error(request)
    if error is None and injected is not None:
        error = injected["message"]
    now = naming.now()
    pid, pstart = secrets.randbelow(0xFFFFFF) + 1000, secrets.randbelow(0xFFFFFFF) + 1000
    user = _token_user(request)
    upid = f"UPID:{node}:{pid:08X}:{pstart:08X}:{int(now):08X}:{kind}:{ident}:{user}:"
    doc["tasks"][upid] = {
        "upid": upid,
        "node": node,
        "pid": pid,
        "pstart": pstart,
        "starttime": int(now),
        "type": kind,
        "id": ident,
        "user": user,
        "status": "running",
        "ends_at": now + float(state.config.get("proxmox_task_seconds", 1.0)),
        "error": error,
        "effect": effect,
    }
    return upid


def _doomed(request: Request) -> bool:
    """Whether an injected fault will fail the task this request starts (then nothing applies)."""
    return any(
        fault.get("operation_error")
        for fault in faults_of(request).describe()
        if _fault_matches(request, fault)
    )


def _fault_matches(request: Request, fault: dict[str, Any]) -> bool:
    target = request_target(request.url.path, request.url.query)
    if not matches(request.method, target, fault.get("method"), fault.get("path_contains")):
        return False
    wanted = fault.get("body_contains")
    body = body_read_for_faults(request)
    return not wanted or (body is not None and wanted in body)


def settle(state: LocalCloudState, now: float) -> None:
    """Tasks whose time is up stop, applying their effect (or undoing a failed clone)."""
    doc = state.document(API)
    tasks = doc.get("tasks")
    if not tasks:
        return
    changed = False
    for upid, task in list(tasks.items()):
        if task["status"] == "running" and task["ends_at"] <= now:
            task["status"] = "stopped"
            task["exitstatus"] = task["error"] or "OK"
            _finish(doc, task, ok=task["error"] is None, now=now)
            changed = True
        elif task["status"] == "stopped" and task["ends_at"] + TASK_KEEP_SECONDS < now:
            del tasks[upid]
            changed = True
    if changed:
        state.save(API)


def _finish(doc: dict[str, Any], task: dict[str, Any], ok: bool, now: float) -> None:
    effect = task.get("effect") or {}
    vm = doc.get("vms", {}).get(str(effect.get("vmid")))
    kind = effect.get("kind")
    if kind == "clone" and vm is not None:
        if ok:
            vm.pop("lock", None)
        else:
            del doc["vms"][str(effect["vmid"])]
        return
    if not ok or vm is None:
        return
    if kind == "status":
        vm["status"], vm["qmpstatus"] = effect["status"], effect["qmpstatus"]
        if effect.get("restart") or (effect["status"] == "running" and not vm.get("started_at")):
            vm["started_at"] = now
        if effect["status"] == "stopped":
            vm.pop("started_at", None)


# --- auth and serving ------------------------------------------------------------------------


def _authenticate(request: Request, doc: dict[str, Any]) -> str:
    header = request.headers.get("authorization", "")
    if not header.startswith("PVEAPIToken="):
        raise PveError(401, "No ticket")
    token, sep, secret = header.removeprefix("PVEAPIToken=").partition("=")
    if not sep or "!" not in token or "@" not in token:
        raise PveError(401, "invalid API token")
    expected = doc["tokens"].get(token)
    if expected is None:
        user, _, name = token.partition("!")
        raise PveError(401, f"no such token '{name}' for user '{user}'")
    if not secrets.compare_digest(expected, secret):
        raise PveError(401, "invalid token value!")
    return token


def _serve(fn: Callable[..., Any], method: str, path: str) -> None:
    async def endpoint(request: Request) -> Response:
        try:
            if request.url.scheme != "https":
                raise PveError(501, "Proxmox VE is served over TLS only: use the Proxmox port")
            form = await _form(request) if method in ("POST", "PUT") else {}
            query = dict(request.query_params)
            state = state_of(request)
            with state.lock:
                doc = _doc(state)
                request.state.pve_user = _authenticate(request, doc)
                data = fn(request, doc, **request.path_params, params={**query, **form})
                if method != "GET":
                    state.save(API)
            return _data(data)
        except PveError as error:
            return error_response(error.status, error.message, error.errors)

    endpoint.__name__ = fn.__name__
    router.add_api_route(path, endpoint, methods=[method], include_in_schema=False)


def _route(method: str, path: str):
    def register(fn):
        _serve(fn, method, path)
        return fn

    return register


# --- version, cluster, nodes -----------------------------------------------------------------


@_route("GET", "/version")
def version(request: Request, doc: dict[str, Any], params: dict[str, str]) -> Any:
    _params(params, {})
    return {
        "version": PVE_VERSION,
        "release": PVE_VERSION.rsplit(".", 1)[0],
        "repoid": "localcloud",
    }


@_route("GET", "/cluster/nextid")
def nextid(request: Request, doc: dict[str, Any], params: dict[str, str]) -> Any:
    values = _params(params, {"vmid": _VMID})
    wanted = values.get("vmid")
    if wanted is not None:
        if str(wanted) in doc["vms"]:
            raise _param_error({"vmid": f"VM {wanted} already exists"})
        return str(wanted)
    vmid = 100
    while str(vmid) in doc["vms"]:
        vmid += 1
    # A string, as PVE's JSON gives it.
    return str(vmid)


def _node_entry(doc: dict[str, Any], name: str) -> dict[str, Any]:
    info = doc["nodes"][name]
    memory, _storage = _committed(doc, name)
    return {
        "node": name,
        "status": "online" if info["online"] else "offline",
        "cpu": 0.02,
        "maxcpu": info["maxcpu"],
        "mem": memory,
        "maxmem": info["maxmem"],
        "disk": 4 * GIB,
        "maxdisk": 100 * GIB,
        "uptime": 86400,
        "level": "",
        "type": "node",
        "id": f"node/{name}",
        "ssl_fingerprint": hashlib.sha256(name.encode()).hexdigest(),
    }


def _vm_entry(doc: dict[str, Any], vm: dict[str, Any], now: float) -> dict[str, Any]:
    config = vm["config"]
    entry = {
        "vmid": vm["vmid"],
        "name": config.get("name", f"VM {vm['vmid']}"),
        "status": vm["status"],
        "maxmem": int(config["memory"]) * MIB,
        "mem": int(config["memory"]) * MIB // 2 if vm["status"] == "running" else 0,
        "maxcpu": int(config.get("cores", 1)) * int(config.get("sockets", 1)),
        "cpu": 0.01 if vm["status"] == "running" else 0,
        "maxdisk": config.get("scsi0", 0),
        "disk": 0,
        "uptime": int(now - vm["started_at"]) if vm.get("started_at") else 0,
        "template": 1 if vm.get("template") else 0,
    }
    if config.get("tags"):
        entry["tags"] = config["tags"]
    if vm.get("lock"):
        entry["lock"] = vm["lock"]
    sid = f"vm:{vm['vmid']}"
    if sid in doc["ha"]:
        entry["hastate"] = doc["ha"][sid]["state"]
    return entry


@_route("GET", "/cluster/resources")
def cluster_resources(request: Request, doc: dict[str, Any], params: dict[str, str]) -> Any:
    values = _params(params, {"type": _enum("vm", "storage", "node", "sdn")})
    kind = values.get("type")
    now = naming.now()
    found: list[dict[str, Any]] = []
    if kind in (None, "node"):
        found += [_node_entry(doc, name) for name in doc["nodes"]]
    if kind in (None, "storage"):
        for name, info in doc["nodes"].items():
            _memory, storage = _committed(doc, name)
            found.append(
                {
                    "id": f"storage/{name}/{STORAGE}",
                    "storage": STORAGE,
                    "node": name,
                    "type": "storage",
                    "plugintype": "lvmthin",
                    "content": "rootdir,images",
                    "shared": 0,
                    "status": "available",
                    "disk": storage,
                    "maxdisk": info["storage"],
                }
            )
    if kind in (None, "vm"):
        for vm in doc["vms"].values():
            entry = _vm_entry(doc, vm, now)
            entry.update({"id": f"qemu/{vm['vmid']}", "type": "qemu", "node": vm["node"]})
            found.append(entry)
    return found


@_route("GET", "/nodes")
def nodes(request: Request, doc: dict[str, Any], params: dict[str, str]) -> Any:
    _params(params, {})
    return [_node_entry(doc, name) for name in doc["nodes"]]


@_route("GET", "/nodes/{node}/status")
def node_status(request: Request, doc: dict[str, Any], node: str, params: dict[str, str]) -> Any:
    _params(params, {})
    info = _node(doc, node)
    memory, _storage = _committed(doc, node)
    return {
        "cpu": 0.02,
        "wait": 0,
        "uptime": 86400,
        "loadavg": ["0.10", "0.08", "0.05"],
        "pveversion": f"pve-manager/{PVE_VERSION}/localcloud",
        "kversion": "Linux 6.14.8-2-pve #1 SMP PREEMPT_DYNAMIC PMX 6.14.8-2",
        "memory": {"total": info["maxmem"], "used": memory, "free": info["maxmem"] - memory},
        "swap": {"total": 0, "used": 0, "free": 0},
        "cpuinfo": {
            "cpus": info["maxcpu"],
            "cores": info["maxcpu"],
            "sockets": 1,
            "model": "Local Cloud Virtual CPU",
            "mhz": "2400.000",
        },
        "rootfs": {"total": 100 * GIB, "used": 4 * GIB, "free": 96 * GIB, "avail": 96 * GIB},
    }


@_route("GET", "/nodes/{node}/qemu")
def node_vms(request: Request, doc: dict[str, Any], node: str, params: dict[str, str]) -> Any:
    _params(params, {"full": _boolean})
    _node(doc, node)
    now = naming.now()
    return [_vm_entry(doc, vm, now) for vm in doc["vms"].values() if vm["node"] == node]


@_route("GET", "/nodes/{node}/tasks/{upid}/status")
def task_status(
    request: Request, doc: dict[str, Any], node: str, upid: str, params: dict[str, str]
) -> Any:
    _params(params, {})
    _node(doc, node)
    task = doc["tasks"].get(upid)
    if task is None or task["node"] != node:
        raise _fail("no such task")
    user, _, token = task["user"].partition("!")
    answer = {
        key: task[key] for key in ("upid", "node", "pid", "pstart", "starttime", "type", "id")
    }
    answer.update({"user": user, "status": task["status"]})
    if token:
        answer["tokenid"] = token
    if task["status"] == "stopped":
        answer["exitstatus"] = task["exitstatus"]
    return answer


# --- VMs -------------------------------------------------------------------------------------

_CLONE = {
    "newid": _VMID,
    "name": _dns_name,
    "description": _text(),
    "full": _boolean,
    "target": _text(64),
    "storage": _text(64),
    "pool": _text(64),
    "snapname": _text(64),
    "format": _enum("raw", "qcow2", "vmdk"),
    "bwlimit": _integer(0, 2**31),
}


@_route("POST", "/nodes/{node}/qemu/{vmid}/clone")
def clone(
    request: Request, doc: dict[str, Any], node: str, vmid: str, params: dict[str, str]
) -> Any:
    values = _params(params, _CLONE, required=("newid",))
    source = _vm(doc, node, _vmid_path(vmid))
    newid = values["newid"]
    existing = doc["vms"].get(str(newid))
    if existing is not None:
        raise _fail(f"VM {newid} already exists on node '{existing['node']}'")
    full = values.get("full", not source.get("template"))
    if not full and not source.get("template"):
        raise _fail("parameter 'full' is required for a clone of a VM that is not a template")
    target = values.get("target", node)
    _node(doc, target)
    if values.get("storage", STORAGE) != STORAGE:
        raise _fail(f"storage '{values['storage']}' does not exist")
    config = {
        k: v
        for k, v in source["config"].items()
        if k not in ("template", "protection", "description", "name", "tags")
    }
    config["name"] = values.get("name") or f"Copy-of-VM-{source['config'].get('name', vmid)}"
    if values.get("description"):
        config["description"] = values["description"]
    _check_capacity(
        doc,
        target,
        newid,
        memory_mib=int(config["memory"]),
        disk_bytes=sum(_disks(config).values()),
        cores=int(config.get("cores", 1)),
    )
    doc["vms"][str(newid)] = {
        "vmid": newid,
        "node": target,
        "template": False,
        "status": "stopped",
        "qmpstatus": "stopped",
        "lock": "clone",
        "config": config,
    }
    return _new_task(
        request, doc, node, "qmclone", str(source["vmid"]), effect={"kind": "clone", "vmid": newid}
    )


_CONFIG = {
    "name": _dns_name,
    "cores": _integer(1, 1024),
    "sockets": _integer(1, 4),
    "memory": _integer(16, 4 * 1024 * 1024),
    "balloon": _integer(0, 4 * 1024 * 1024),
    "description": _text(),
    "tags": _tags,
    "sshkeys": _sshkeys,
    "ciuser": _text(64),
    "cipassword": _text(256),
    "ipconfig0": _text(512),
    "nameserver": _text(256),
    "searchdomain": _text(256),
    "onboot": _boolean,
    "agent": _text(64),
    "cpu": _text(128),
    "delete": _text(1024),
    "digest": _text(64),
    "skiplock": _boolean,
}
_DELETABLE = {
    "description",
    "tags",
    "sshkeys",
    "ciuser",
    "cipassword",
    "ipconfig0",
    "nameserver",
    "searchdomain",
    "onboot",
    "agent",
    "cpu",
    "balloon",
}


@_route("GET", "/nodes/{node}/qemu/{vmid}/config")
def get_config(
    request: Request, doc: dict[str, Any], node: str, vmid: str, params: dict[str, str]
) -> Any:
    _params(params, {"current": _boolean, "snapshot": _text(64)})
    return _render_config(_vm(doc, node, _vmid_path(vmid)))


def _update_config(
    request: Request, doc: dict[str, Any], node: str, vmid: str, params: dict[str, str]
) -> dict[str, Any]:
    values = _params(params, _CONFIG)
    vm = _vm(doc, node, _vmid_path(vmid))
    if not values.pop("skiplock", False):
        _unlocked(vm)
    digest = values.pop("digest", None)
    if digest is not None and digest != _digest(vm):
        raise _fail("detected modified configuration - file changed by other user? Try again.")
    deletions = [key for key in re.split(r"[,; ]+", values.pop("delete", "")) if key]
    for key in deletions:
        if key not in _DELETABLE:
            raise _param_error({"delete": f"unable to delete '{key}'"})
    memory = values.get("memory", int(vm["config"]["memory"]))
    cores = values.get("cores", int(vm["config"].get("cores", 1)))
    extra_memory = memory - int(vm["config"]["memory"]) if not vm.get("template") else 0
    _check_capacity(doc, node, vm["vmid"], memory_mib=max(extra_memory, 0), cores=cores)
    return {"vm": vm, "values": values, "deletions": deletions}


def _apply_config(change: dict[str, Any]) -> None:
    config = change["vm"]["config"]
    for key in change["deletions"]:
        config.pop(key, None)
    config.update(change["values"])


@_route("PUT", "/nodes/{node}/qemu/{vmid}/config")
def put_config(
    request: Request, doc: dict[str, Any], node: str, vmid: str, params: dict[str, str]
) -> Any:
    _apply_config(_update_config(request, doc, node, vmid, params))
    return None


@_route("POST", "/nodes/{node}/qemu/{vmid}/config")
def post_config(
    request: Request, doc: dict[str, Any], node: str, vmid: str, params: dict[str, str]
) -> Any:
    change = _update_config(request, doc, node, vmid, params)
    if not _doomed(request):
        _apply_config(change)
    return _new_task(request, doc, node, "qmconfig", str(change["vm"]["vmid"]))


@_route("PUT", "/nodes/{node}/qemu/{vmid}/resize")
def resize(
    request: Request, doc: dict[str, Any], node: str, vmid: str, params: dict[str, str]
) -> Any:
    values = _params(
        params,
        {"disk": _disk_key, "size": _size, "digest": _text(64), "skiplock": _boolean},
        required=("disk", "size"),
    )
    vm = _vm(doc, node, _vmid_path(vmid))
    if not values.get("skiplock"):
        _unlocked(vm)
    disks = _disks(vm["config"])
    if values["disk"] not in disks:
        raise _fail(f"disk '{values['disk']}' does not exist")
    grow, number, unit = _SIZE.match(values["size"]).groups()
    factor = {"K": 1024, "M": MIB, "G": GIB, "T": 1024**4}.get(unit or "", 1)
    amount = int(float(number) * factor)
    current = disks[values["disk"]]
    new_size = current + amount if grow else amount
    if new_size < current:
        raise _fail("shrinking disks is not supported")
    _check_capacity(doc, node, vm["vmid"], disk_bytes=new_size - current)
    if not _doomed(request):
        vm["config"][values["disk"]] = new_size
    return _new_task(request, doc, node, "qmresize", str(vm["vmid"]))


@_route("GET", "/nodes/{node}/qemu/{vmid}/status/current")
def status_current(
    request: Request, doc: dict[str, Any], node: str, vmid: str, params: dict[str, str]
) -> Any:
    _params(params, {})
    vm = _vm(doc, node, _vmid_path(vmid))
    entry = _vm_entry(doc, vm, naming.now())
    sid = f"vm:{vm['vmid']}"
    ha = doc["ha"].get(sid)
    entry.update(
        {
            "qmpstatus": vm["qmpstatus"],
            "cpus": entry["maxcpu"],
            "agent": 1,
            "ha": {"managed": 1, "state": ha["state"]} if ha else {"managed": 0},
        }
    )
    return entry


# What each action does to a VM: (status, qmpstatus) when its task ends, and the state it needs.
_ACTION_EFFECT = {
    "start": ("running", "running"),
    "stop": ("stopped", "stopped"),
    "shutdown": ("stopped", "stopped"),
    "reboot": ("running", "running"),
    "suspend": ("running", "paused"),
    "resume": ("running", "running"),
}


def _action(
    request: Request, doc: dict[str, Any], node: str, vmid: str, action: str, params: dict[str, str]
) -> Any:
    schema: dict[str, Check] = {"skiplock": _boolean, "timeout": _integer(0, 86400)}
    if action in ("stop", "shutdown"):
        schema.update(
            {"forceStop": _boolean, "keepActive": _boolean, "overrule-shutdown": _boolean}
        )
    if action == "suspend":
        schema["todisk"] = _boolean
    values = _params(params, schema)
    vm = _vm(doc, node, _vmid_path(vmid))
    if vm.get("template") and action == "start":
        raise _fail("you can't start a vm if it's a template")
    if not values.get("skiplock"):
        _unlocked(vm)
    error = None
    running = vm["status"] == "running"
    if action == "start" and running:
        error = f"VM {vm['vmid']} already running"
    elif action in ("shutdown", "reboot", "suspend", "resume") and not running:
        error = f"VM {vm['vmid']} not running"
    status, qmpstatus = _ACTION_EFFECT[action]
    sid = f"vm:{vm['vmid']}"
    kind = f"qm{action}"
    if sid in doc["ha"] and action in ("start", "stop", "shutdown"):
        # An HA-managed VM is started and stopped through its HA resource's requested state.
        kind = "hastart" if action == "start" else "hastop"
        doc["ha"][sid]["state"] = "started" if action == "start" else "stopped"
    effect = {
        "kind": "status",
        "vmid": vm["vmid"],
        "status": status,
        "qmpstatus": qmpstatus,
        "restart": action == "reboot",
    }
    return _new_task(request, doc, node, kind, str(vm["vmid"]), error=error, effect=effect)


for _name in ACTIONS:

    def _make(action: str):
        def handler(
            request: Request, doc: dict[str, Any], node: str, vmid: str, params: dict[str, str]
        ) -> Any:
            return _action(request, doc, node, vmid, action, params)

        handler.__name__ = f"vm_{action}"
        return handler

    _serve(_make(_name), "POST", f"/nodes/{{node}}/qemu/{{vmid}}/status/{_name}")


@_route("DELETE", "/nodes/{node}/qemu/{vmid}")
def destroy(
    request: Request, doc: dict[str, Any], node: str, vmid: str, params: dict[str, str]
) -> Any:
    values = _params(
        params, {"purge": _boolean, "destroy-unreferenced-disks": _boolean, "skiplock": _boolean}
    )
    vm = _vm(doc, node, _vmid_path(vmid))
    number = vm["vmid"]
    if vm["config"].get("protection"):
        raise _fail(f"can't remove VM {number} - protection mode enabled")
    if not values.get("skiplock"):
        _unlocked(vm)
    if vm["status"] == "running":
        raise _fail(f"VM {number} is running - destroy failed")
    sid = f"vm:{number}"
    if sid in doc["ha"] and not values.get("purge"):
        raise _fail(
            f"unable to remove VM {number} - used in HA resources and purge parameter not set."
        )
    if not _doomed(request):
        del doc["vms"][str(number)]
        doc["ha"].pop(sid, None)
    return _new_task(request, doc, node, "qmdestroy", str(number))


@_route("POST", "/nodes/{node}/qemu/{vmid}/vncproxy")
def vncproxy(
    request: Request, doc: dict[str, Any], node: str, vmid: str, params: dict[str, str]
) -> Any:
    values = _params(params, {"websocket": _boolean, "generate-password": _boolean})
    vm = _vm(doc, node, _vmid_path(vmid))
    if vm["status"] != "running":
        raise _fail(f"VM {vm['vmid']} not running")
    state = state_of(request)
    cert = ""
    if state.data_dir is not None:
        cert_file = tls.tls_dir(state.data_dir) / tls.CERT_FILE
        cert = cert_file.read_text() if cert_file.exists() else ""
    user = _token_user(request)
    ticket = f"PVEVNC:{int(naming.now()):08X}::{secrets.token_urlsafe(48)}"
    answer: dict[str, Any] = {
        "user": user,
        "ticket": ticket,
        "cert": cert,
        "port": 5900 + secrets.randbelow(100),
        "upid": _new_task(request, doc, node, "vncproxy", str(vm["vmid"])),
    }
    if values.get("generate-password"):
        answer["password"] = secrets.token_urlsafe(6)[:8]
    return answer


# --- HA resources ----------------------------------------------------------------------------


def _sid(value: str) -> str:
    match = re.fullmatch(r"(?:(vm|ct):)?(\d+)", value)
    if not match:
        raise _param_error({"sid": "unable to parse service id"})
    return f"{match.group(1) or 'vm'}:{match.group(2)}"


@_route("GET", "/cluster/ha/resources")
def ha_list(request: Request, doc: dict[str, Any], params: dict[str, str]) -> Any:
    _params(params, {"type": _enum("vm", "ct")})
    return [dict(resource) for resource in doc["ha"].values()]


@_route("GET", "/cluster/ha/resources/{sid}")
def ha_get(request: Request, doc: dict[str, Any], sid: str, params: dict[str, str]) -> Any:
    _params(params, {})
    found = doc["ha"].get(_sid(sid))
    if found is None:
        raise _fail(f"no such resource '{_sid(sid)}'")
    return dict(found)


@_route("POST", "/cluster/ha/resources")
def ha_create(request: Request, doc: dict[str, Any], params: dict[str, str]) -> Any:
    values = _params(
        params,
        {
            "sid": _text(64),
            "type": _enum("vm", "ct"),
            "state": _enum("started", "stopped", "enabled", "disabled", "ignored"),
            "max_restart": _integer(0, 10),
            "max_relocate": _integer(0, 10),
            "group": _text(64),
            "comment": _text(4096),
            "failback": _boolean,
        },
        required=("sid",),
    )
    sid = _sid(values["sid"])
    if sid in doc["ha"]:
        raise _fail(f"resource ID '{sid}' already defined")
    number = sid.split(":", 1)[1]
    if number not in doc["vms"]:
        raise _fail(f"unable to find configuration file for VM {number} - no such machine")
    resource = {
        "sid": sid,
        "type": "vm",
        "state": values.get("state", "started"),
        "max_restart": values.get("max_restart", 1),
        "max_relocate": values.get("max_relocate", 1),
    }
    for key in ("group", "comment"):
        if values.get(key):
            resource[key] = values[key]
    resource["digest"] = hashlib.sha1(json.dumps(resource, sort_keys=True).encode()).hexdigest()
    doc["ha"][sid] = resource
    vm = doc["vms"][number]
    if (
        resource["state"] in ("started", "enabled")
        and vm["status"] != "running"
        and not vm.get("lock")
    ):
        # The HA manager starts a resource requested `started` within seconds.
        effect = {
            "kind": "status",
            "vmid": int(number),
            "status": "running",
            "qmpstatus": "running",
        }
        _new_task(request, doc, vm["node"], "hastart", number, effect=effect)
    return None


@_route("DELETE", "/cluster/ha/resources/{sid}")
def ha_delete(request: Request, doc: dict[str, Any], sid: str, params: dict[str, str]) -> Any:
    _params(params, {"purge": _boolean})
    key = _sid(sid)
    if key not in doc["ha"]:
        raise _fail(f"cannot delete service '{key}', not HA managed!")
    del doc["ha"][key]
    return None


@router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE"], include_in_schema=False)
async def not_implemented(request: Request, path: str) -> Response:
    return error_response(501, f"Method '{request.method} /{path}' not implemented")
