"""The Docker Engine HTTP API as the `docker` SDK (7.x) speaks it over `tcp://` (WIRE_APIS §5):
`/version` and `/_ping` unprefixed, everything under `/v{api version}/` (and unprefixed too, as the
daemon allows): images create/inspect, containers create/inspect/start/stop/wait/remove/list with
label filters, pause/unpause, networks, volumes. Errors are `{"message": …}` with the daemon's texts, which the SDK
parses (`No such image` → ImageNotFound).

Containers run nothing. One started with `ACTIONS_RUNNER_INPUT_JITCONFIG` plays a GitHub Actions
ephemeral runner: it brings its runner online in the GitHub emulator, "runs one job" for the local
cloud's `runner_job_seconds`, then exits 0 and the runner deregisters itself. Any other container
runs until it is stopped. Shared by every system that drives Docker (runners, hosting).

As the daemon does: a container created with a `Healthcheck` reports `State.Health` — `starting`
when it starts, `healthy` after the local cloud's `docker_health_seconds`; a published port with no
`HostPort` gets the next free one at start (`NetworkSettings.Ports`; a restart moves it); a running container is an active
endpoint of its network (which cannot be removed meanwhile); a volume a container mounts cannot be
removed (409); `restart` stops and starts. Injected faults answer in the daemon's `{"message"}`.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from localcloud import naming
from localcloud.apis import github_actions
from localcloud.state import LocalCloudState, state_of

API = "docker"
API_VERSION = "1.47"
MIN_API_VERSION = "1.24"
JIT_ENV = "ACTIONS_RUNNER_INPUT_JITCONFIG"
_NAME = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
_REFERENCE = re.compile(
    r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r"(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)

router = APIRouter(tags=["docker"])
engine = APIRouter()
# The SDK always versions its paths (`/v1.47/…`); only Docker's paths start so.
FAULT_PATH_PREFIX = "/v1."
# The daemon's ephemeral range (Linux's ip_local_port_range default).
_FIRST_HOST_PORT = 32768
_LAST_HOST_PORT = 60999


def fault_response(error) -> Response:
    """An injected fault, answered as the daemon answers errors."""
    return JSONResponse({"message": error.message}, status_code=error.http_status)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status)


class DockerError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _doc(state: LocalCloudState) -> dict[str, Any]:
    doc = state.document(API)
    for key in ("images", "containers", "networks", "volumes"):
        doc.setdefault(key, {})
    if "bridge" not in {n["Name"] for n in doc["networks"].values()}:
        nid = secrets.token_hex(32)
        doc["networks"][nid] = _network_body(nid, "bridge", "bridge", {})
    return doc


def _stamp(at: float | None = None) -> str:
    moment = datetime.fromtimestamp(at if at is not None else naming.now(), UTC)
    return moment.isoformat().replace("+00:00", "Z")


def _full_image(reference: str) -> str:
    name = reference.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return reference if ":" in last or "@" in reference else f"{reference}:latest"


def _find_container(doc: dict[str, Any], ref: str) -> dict[str, Any]:
    containers = doc["containers"]
    if ref in containers:
        return containers[ref]
    for container in containers.values():
        if container["Name"] == f"/{ref}":
            return container
    matches = [c for cid, c in containers.items() if len(ref) >= 3 and cid.startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    raise DockerError(404, f"No such container: {ref}")


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise DockerError(400, "invalid JSON body") from None
    if not isinstance(body, dict):
        raise DockerError(400, "invalid JSON body: expected an object")
    return body


def _run(request: Request, fn, *args: Any) -> Any:
    state = state_of(request)
    with state.lock:
        result = fn(state, _doc(state), *args)
        state.save(API)
    return result


def _serve(fn):
    """Wraps an endpoint so DockerError becomes the daemon's `{"message"}` error."""

    async def endpoint(request: Request) -> Response:
        try:
            return await fn(request)
        except DockerError as error:
            return _error(error.status, error.message)

    endpoint.__name__ = fn.__name__
    return endpoint


def _route(method: str, path: str):
    def register(fn):
        engine.add_api_route(path, _serve(fn), methods=[method], include_in_schema=False)
        return fn

    return register


# --- system ----------------------------------------------------------------------------------


def _version_body() -> dict[str, Any]:
    return {
        "Platform": {"Name": "ConneSkills local cloud Docker Engine"},
        "Version": "27.3.1",
        "ApiVersion": API_VERSION,
        "MinAPIVersion": MIN_API_VERSION,
        "Os": "linux",
        "Arch": "amd64",
        "KernelVersion": "6.0.0-localcloud",
        "GoVersion": "go1.22",
        "GitCommit": "localcloud",
    }


@_route("GET", "/version")
async def version(request: Request) -> Response:
    return JSONResponse(_version_body())


def _ping_headers() -> dict[str, str]:
    return {"API-Version": API_VERSION, "Docker-Experimental": "false", "OSType": "linux"}


@_route("GET", "/_ping")
async def ping(request: Request) -> Response:
    return PlainTextResponse("OK", headers=_ping_headers())


@_route("HEAD", "/_ping")
async def ping_head(request: Request) -> Response:
    return Response(headers=_ping_headers())


# --- images ----------------------------------------------------------------------------------


def _pull(state, doc, reference: str) -> dict[str, Any]:
    if not _REFERENCE.match(reference) or len(reference) > 255:
        raise DockerError(400, f'invalid reference format: "{reference}"')
    image = doc["images"].get(reference)
    if image is None:
        image = {
            "Id": f"sha256:{secrets.token_hex(32)}",
            "RepoTags": [reference],
            "Created": _stamp(),
            "Size": 1024 * 1024,
            "Os": "linux",
            "Architecture": "amd64",
            "Config": {"Env": [], "Labels": {}, "Cmd": None},
        }
        doc["images"][reference] = image
    return image


@_route("POST", "/images/create")
async def create_image(request: Request) -> Response:
    params = request.query_params
    source = params.get("fromImage")
    if not source:
        raise DockerError(400, "fromImage is required")
    tag = params.get("tag")
    reference = _full_image(f"{source}:{tag}" if tag and "@" not in source else source)
    _run(request, _pull, reference)
    lines = [
        {"status": f"Pulling from {reference.rsplit(':', 1)[0]}", "id": tag or "latest"},
        {"status": "Digest: sha256:" + secrets.token_hex(32)},
        {"status": f"Status: Downloaded newer image for {reference}"},
    ]
    body = "".join(json.dumps(line) + "\r\n" for line in lines).encode()
    return Response(body, media_type="application/json")


def _image_for(doc, ref: str) -> dict[str, Any]:
    image = doc["images"].get(_full_image(ref)) or doc["images"].get(ref)
    if image is None:
        image = next((i for i in doc["images"].values() if i["Id"] == ref), None)
    if image is None:
        raise DockerError(404, f"No such image: {ref}")
    return image


@_route("GET", "/images/{name:path}/json")
async def inspect_image(request: Request) -> Response:
    name = request.path_params["name"]
    return JSONResponse(_run(request, lambda _s, doc: _image_for(doc, name)))


# --- containers ------------------------------------------------------------------------------


def _create_container(state, doc, name: str | None, body: dict[str, Any]) -> dict[str, Any]:
    image_ref = body.get("Image")
    if not isinstance(image_ref, str) or not image_ref:
        raise DockerError(400, "config cannot be empty in order to create a container")
    if name is not None:
        if not _NAME.match(name):
            raise DockerError(
                400, f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
            )
        if any(c["Name"] == f"/{name.lstrip('/')}" for c in doc["containers"].values()):
            existing = next(
                cid for cid, c in doc["containers"].items() if c["Name"] == f"/{name.lstrip('/')}"
            )
            raise DockerError(
                409,
                f'Conflict. The container name "/{name.lstrip("/")}" is already in use by '
                f'container "{existing}". You have to remove (or rename) that container to be '
                "able to reuse that name.",
            )
    image = _image_for(doc, image_ref)
    env = body.get("Env") or []
    labels = body.get("Labels") or {}
    if not isinstance(env, list) or not all(isinstance(e, str) for e in env):
        raise DockerError(400, "Env must be a list of strings")
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise DockerError(400, "Labels must be a map of strings")
    host_config = body.get("HostConfig") or {}
    network = host_config.get("NetworkMode") or "default"
    network = "bridge" if network == "default" else network
    if network not in ("bridge", "host", "none") and network not in {
        n["Name"] for n in doc["networks"].values()
    }:
        raise DockerError(404, f"network {network} not found")
    _check_binds(host_config.get("Binds") or [])
    healthcheck = body.get("Healthcheck")
    if healthcheck is not None and not isinstance(healthcheck, dict):
        raise DockerError(400, "Healthcheck must be an object")
    cid = secrets.token_hex(32)
    container_name = f"/{(name or f'localcloud_{cid[:12]}').lstrip('/')}"
    container = {
        "Id": cid,
        "Name": container_name,
        "Created": _stamp(),
        "Path": (body.get("Cmd") or [""])[0] if isinstance(body.get("Cmd"), list) else "",
        "Args": [],
        "Image": image["Id"],
        "Config": {
            "Image": image_ref,
            "Env": env,
            "Labels": labels,
            "Cmd": body.get("Cmd"),
            "Entrypoint": body.get("Entrypoint"),
            "Hostname": cid[:12],
            "Healthcheck": healthcheck,
            "ExposedPorts": body.get("ExposedPorts"),
        },
        "HostConfig": host_config,
        "State": {
            "Status": "created",
            "Running": False,
            "Paused": False,
            "Restarting": False,
            "OOMKilled": False,
            "Dead": False,
            "Pid": 0,
            "ExitCode": 0,
            "Error": "",
            "StartedAt": "0001-01-01T00:00:00Z",
            "FinishedAt": "0001-01-01T00:00:00Z",
        },
        "NetworkSettings": {
            "Networks": {network: {"NetworkID": _network_id(doc, network), "Aliases": None}},
            "Ports": {},
        },
        "Mounts": [],
        "RestartCount": 0,
        "_exit_at": None,
    }
    doc["containers"][cid] = container
    return {"Id": cid, "Warnings": []}


@_route("POST", "/containers/create")
async def create_container(request: Request) -> Response:
    body = await _json(request)
    name = request.query_params.get("name")
    return JSONResponse(_run(request, _create_container, name, body), status_code=201)


def _public(container: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in container.items() if not k.startswith("_")}


@_route("GET", "/containers/{ref}/json")
async def inspect_container(request: Request) -> Response:
    ref = request.path_params["ref"]
    return JSONResponse(_run(request, lambda _s, doc: _public(_find_container(doc, ref))))


def _jit_config(container: dict[str, Any]) -> dict[str, Any] | None:
    for entry in container["Config"]["Env"] or []:
        key, _, value = entry.partition("=")
        if key == JIT_ENV:
            return github_actions.decode_jitconfig(value)
    return None


def _start(state, doc, ref: str) -> int:
    container = _find_container(doc, ref)
    status = container["State"]["Status"]
    if status == "running":
        return 304
    if status == "paused":
        raise DockerError(409, "cannot start a paused container, try unpause instead")
    if status == "removing" or status == "dead":
        raise DockerError(409, f"container {container['Id']} is marked for removal")
    container["State"].update(
        Status="running",
        Running=True,
        Pid=4000 + len(doc["containers"]),
        ExitCode=0,
        StartedAt=_stamp(),
        FinishedAt="0001-01-01T00:00:00Z",
    )
    _publish_ports(doc, container)
    _join_networks(doc, container)
    if _has_healthcheck(container):
        container["State"]["Health"] = {"Status": "starting", "FailingStreak": 0, "Log": []}
        container["_healthy_at"] = naming.now() + float(state.config["docker_health_seconds"])
    config = _jit_config(container)
    if config is not None:
        if github_actions.runner_online(state, config):
            container["_exit_at"] = naming.now() + float(state.config["runner_job_seconds"])
        else:
            # The runner refuses a config whose registration is gone or used, and exits at once.
            _exit(state, container, 1, "the JIT config is no longer valid")
    return 204


def _exit(state, container: dict[str, Any], code: int, error: str = "") -> None:
    container["State"].update(
        Status="exited",
        Running=False,
        Paused=False,
        Pid=0,
        ExitCode=code,
        Error=error,
        FinishedAt=_stamp(),
    )
    container["_exit_at"] = None
    container["_paused_left"] = None
    container["_healthy_at"] = None
    if "Health" in container["State"]:
        container["State"]["Health"]["Status"] = "unhealthy"
    container["NetworkSettings"]["Ports"] = {}
    for network in state.document(API).get("networks", {}).values():
        network["Containers"].pop(container["Id"], None)
    config = _jit_config(container)
    if config is not None:
        github_actions.runner_exited(state, config, clean=code == 0)


@_route("POST", "/containers/{ref}/start")
async def start_container(request: Request) -> Response:
    return Response(status_code=_run(request, _start, request.path_params["ref"]))


def _stop(state, doc, ref: str, signal_code: int = 143) -> int:
    container = _find_container(doc, ref)
    if not container["State"]["Running"]:
        return 304
    _exit(state, container, signal_code)
    return 204


@_route("POST", "/containers/{ref}/stop")
async def stop_container(request: Request) -> Response:
    return Response(status_code=_run(request, _stop, request.path_params["ref"]))


def _pause(state, doc, ref: str) -> None:
    """Frozen as the daemon's cgroup freezer does: still `Running`, `Paused`, status `paused`; a
    runner's job time stands still until it is unpaused."""
    container = _find_container(doc, ref)
    if not container["State"]["Running"]:
        raise DockerError(409, f"Container {container['Id']} is not running")
    if container["State"]["Paused"]:
        raise DockerError(409, f"Container {container['Id']} is already paused")
    container["State"].update(Status="paused", Paused=True)
    if container.get("_exit_at") is not None:
        container["_paused_left"] = max(0.0, container["_exit_at"] - naming.now())
        container["_exit_at"] = None


def _unpause(state, doc, ref: str) -> None:
    container = _find_container(doc, ref)
    if not container["State"]["Paused"]:
        raise DockerError(409, f"Container {container['Id']} is not paused")
    container["State"].update(Status="running", Paused=False)
    if container.get("_paused_left") is not None:
        container["_exit_at"] = naming.now() + container["_paused_left"]
        container["_paused_left"] = None


@_route("POST", "/containers/{ref}/pause")
async def pause_container(request: Request) -> Response:
    _run(request, _pause, request.path_params["ref"])
    return Response(status_code=204)


@_route("POST", "/containers/{ref}/unpause")
async def unpause_container(request: Request) -> Response:
    _run(request, _unpause, request.path_params["ref"])
    return Response(status_code=204)


def _restart(state, doc, ref: str) -> int:
    _stop(state, doc, ref)
    _start(state, doc, ref)
    return 204


@_route("POST", "/containers/{ref}/restart")
async def restart_container(request: Request) -> Response:
    return Response(status_code=_run(request, _restart, request.path_params["ref"]))


@_route("POST", "/containers/{ref}/kill")
async def kill_container(request: Request) -> Response:
    code = _run(request, _stop, request.path_params["ref"], 137)
    if code == 304:
        raise DockerError(409, f"Container {request.path_params['ref']} is not running")
    return Response(status_code=204)


def _remove(state, doc, ref: str, force: bool) -> None:
    container = _find_container(doc, ref)
    if container["State"]["Running"]:
        if not force:
            raise DockerError(
                409,
                f"You cannot remove a running container {container['Id']}. Stop the container "
                "before attempting removal or force remove",
            )
        _exit(state, container, 137)
    del doc["containers"][container["Id"]]


@_route("DELETE", "/containers/{ref}")
async def remove_container(request: Request) -> Response:
    force = request.query_params.get("force", "").lower() in ("1", "true")
    _run(request, _remove, request.path_params["ref"], force)
    return Response(status_code=204)


@_route("POST", "/containers/{ref}/wait")
async def wait_container(request: Request) -> Response:
    """Long-polls until the container is not running (condition `not-running`, the default)."""
    ref = request.path_params["ref"]
    state = state_of(request)
    while True:
        state.settle()
        with state.lock:
            container = _find_container(_doc(state), ref)
            if not container["State"]["Running"]:
                code = container["State"]["ExitCode"]
                return JSONResponse({"StatusCode": code, "Error": None})
        await asyncio.sleep(0.1)


def _filters(request: Request) -> dict[str, list[str]]:
    raw = request.query_params.get("filters")
    if not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        raise DockerError(400, "invalid filter") from None
    if not isinstance(parsed, dict):
        raise DockerError(400, "invalid filter")
    # Both shapes the daemon accepts: {"label": ["a=b"]} and {"label": {"a=b": true}}.
    return {k: list(v) if isinstance(v, list | dict) else [str(v)] for k, v in parsed.items()}


def _labels_match(labels: dict[str, str], wanted: list[str]) -> bool:
    for item in wanted:
        key, eq, value = item.partition("=")
        if key not in labels or (eq and labels[key] != value):
            return False
    return True


def _status_words(container: dict[str, Any]) -> str:
    state = container["State"]
    if state["Status"] == "running":
        return "Up"
    if state["Status"] == "paused":
        return "Up (Paused)"
    if state["Status"] == "created":
        return "Created"
    return f"Exited ({state['ExitCode']})"


@_route("GET", "/containers/json")
async def list_containers(request: Request) -> Response:
    filters = _filters(request)
    include_all = request.query_params.get("all", "0").lower() in ("1", "true")

    def listing(_state, doc) -> list[dict[str, Any]]:
        items = []
        for container in doc["containers"].values():
            status = container["State"]["Status"]
            # Without `all`, as `docker ps`: what runs, paused included.
            if not include_all and status not in ("running", "paused") and "status" not in filters:
                continue
            if "label" in filters and not _labels_match(
                container["Config"]["Labels"], filters["label"]
            ):
                continue
            if "status" in filters and status not in filters["status"]:
                continue
            if "name" in filters and not any(
                n.lstrip("/") in container["Name"] for n in filters["name"]
            ):
                continue
            if "id" in filters and not any(container["Id"].startswith(i) for i in filters["id"]):
                continue
            created = datetime.fromisoformat(container["Created"].replace("Z", "+00:00"))
            items.append(
                {
                    "Id": container["Id"],
                    "Names": [container["Name"]],
                    "Image": container["Config"]["Image"],
                    "ImageID": container["Image"],
                    "Command": " ".join(container["Config"]["Cmd"] or []),
                    "Created": int(created.timestamp()),
                    "State": status,
                    "Status": _status_words(container),
                    "Labels": container["Config"]["Labels"],
                    "Ports": [],
                    "Mounts": [],
                }
            )
        return items

    return JSONResponse(_run(request, listing))


def _check_binds(binds: list[Any]) -> None:
    for bind in binds:
        if not isinstance(bind, str) or bind.count(":") not in (1, 2):
            raise DockerError(400, f"invalid volume specification: '{bind}'")
        source = bind.split(":", 1)[0]
        if not source.startswith("/") and not _NAME.match(source):
            raise DockerError(
                400,
                f'create {source}: "{source}" includes invalid characters for a local volume '
                'name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass '
                "a host directory, use absolute path",
            )


def _bound_volumes(container: dict[str, Any]) -> set[str]:
    binds = (container.get("HostConfig") or {}).get("Binds") or []
    return {b.split(":", 1)[0] for b in binds if isinstance(b, str) and not b.startswith("/")}


def _has_healthcheck(container: dict[str, Any]) -> bool:
    test = (container["Config"].get("Healthcheck") or {}).get("Test") or []
    return bool(test) and test[0] != "NONE"


def _network_id(doc: dict[str, Any], name: str) -> str:
    return next((nid for nid, n in doc["networks"].items() if n["Name"] == name), "")


def _join_networks(doc: dict[str, Any], container: dict[str, Any]) -> None:
    for name in container["NetworkSettings"]["Networks"]:
        for network in doc["networks"].values():
            if network["Name"] == name:
                network["Containers"][container["Id"]] = {"Name": container["Name"].lstrip("/")}


def _publish_ports(doc: dict[str, Any], container: dict[str, Any]) -> None:
    """A binding without a HostPort gets a free one, as the daemon's port allocator picks them:
    the next free port after the last one it handed out, wrapping in its ephemeral range. So a
    container stopped and started again (or restarted) comes back on another host port."""
    taken = {
        int(binding["HostPort"])
        for other in doc["containers"].values()
        for bindings in (other["NetworkSettings"].get("Ports") or {}).values()
        for binding in bindings or []
        if str(binding.get("HostPort", "")).isdigit()
    }
    ports: dict[str, list[dict[str, str]]] = {}
    requested = (container.get("HostConfig") or {}).get("PortBindings") or {}
    for port, bindings in requested.items():
        ports[port] = []
        for binding in bindings or [{}]:
            host_port = str((binding or {}).get("HostPort") or "")
            if not host_port:
                host_port = str(_next_host_port(doc, taken))
            taken.add(int(host_port))
            ports[port].append(
                {"HostIp": (binding or {}).get("HostIp") or "0.0.0.0", "HostPort": host_port}
            )
    container["NetworkSettings"]["Ports"] = ports


def _next_host_port(doc: dict[str, Any], taken: set[int]) -> int:
    span = _LAST_HOST_PORT - _FIRST_HOST_PORT + 1
    last = int(doc.get("last_host_port") or _LAST_HOST_PORT)
    for step in range(1, span + 1):
        candidate = _FIRST_HOST_PORT + (last - _FIRST_HOST_PORT + step) % span
        if candidate not in taken:
            doc["last_host_port"] = candidate
            return candidate
    raise DockerError(500, "no host port left in the ephemeral range")


# --- networks and volumes --------------------------------------------------------------------


def _network_body(nid: str, name: str, driver: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "Name": name,
        "Id": nid,
        "Created": _stamp(),
        "Scope": "local",
        "Driver": driver,
        "EnableIPv6": False,
        "Internal": False,
        "Attachable": False,
        "Labels": labels,
        "Containers": {},
        "Options": {},
    }


def _find_network(doc, ref: str) -> dict[str, Any]:
    for nid, network in doc["networks"].items():
        if ref in (nid, network["Name"]) or (len(ref) >= 3 and nid.startswith(ref)):
            return network
    raise DockerError(404, f"network {ref} not found")


@_route("POST", "/networks/create")
async def create_network(request: Request) -> Response:
    body = await _json(request)

    def create(_state, doc):
        name = body.get("Name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise DockerError(400, "network name is invalid")
        if any(n["Name"] == name for n in doc["networks"].values()):
            raise DockerError(409, f"network with name {name} already exists")
        nid = secrets.token_hex(32)
        doc["networks"][nid] = _network_body(
            nid, name, body.get("Driver") or "bridge", body.get("Labels") or {}
        )
        return {"Id": nid, "Warning": ""}

    return JSONResponse(_run(request, create), status_code=201)


@_route("GET", "/networks")
async def list_networks(request: Request) -> Response:
    filters = _filters(request)

    def listing(_state, doc):
        items = list(doc["networks"].values())
        if "name" in filters:
            items = [n for n in items if any(f in n["Name"] for f in filters["name"])]
        if "label" in filters:
            items = [n for n in items if _labels_match(n["Labels"], filters["label"])]
        return items

    return JSONResponse(_run(request, listing))


@_route("GET", "/networks/{ref}")
async def inspect_network(request: Request) -> Response:
    ref = request.path_params["ref"]
    return JSONResponse(_run(request, lambda _s, doc: _find_network(doc, ref)))


@_route("DELETE", "/networks/{ref}")
async def remove_network(request: Request) -> Response:
    ref = request.path_params["ref"]

    def remove(_state, doc):
        network = _find_network(doc, ref)
        if network["Containers"]:
            raise DockerError(
                403, f"error while removing network: network {ref} has active endpoints"
            )
        del doc["networks"][network["Id"]]

    _run(request, remove)
    return Response(status_code=204)


@_route("POST", "/networks/{ref}/connect")
async def connect_network(request: Request) -> Response:
    ref = request.path_params["ref"]
    body = await _json(request)

    def connect(_state, doc):
        network = _find_network(doc, ref)
        container = _find_container(doc, str(body.get("Container", "")))
        endpoint = body.get("EndpointConfig") or {}
        container["NetworkSettings"]["Networks"][network["Name"]] = {
            "NetworkID": network["Id"],
            "Aliases": endpoint.get("Aliases"),
        }
        network["Containers"][container["Id"]] = {"Name": container["Name"].lstrip("/")}

    _run(request, connect)
    return Response(status_code=200)


@_route("POST", "/volumes/create")
async def create_volume(request: Request) -> Response:
    body = await _json(request)

    def create(_state, doc):
        name = body.get("Name") or secrets.token_hex(32)
        if not _NAME.match(name):
            raise DockerError(400, f"create {name}: volume name is invalid")
        volume = doc["volumes"].get(name) or {
            "Name": name,
            "Driver": body.get("Driver") or "local",
            "Mountpoint": f"/var/lib/docker/volumes/{name}/_data",
            "Labels": body.get("Labels") or {},
            "Scope": "local",
            "CreatedAt": _stamp(),
            "Options": body.get("DriverOpts") or {},
        }
        doc["volumes"][name] = volume
        return volume

    return JSONResponse(_run(request, create), status_code=201)


@_route("GET", "/volumes")
async def list_volumes(request: Request) -> Response:
    filters = _filters(request)

    def listing(_state, doc):
        items = list(doc["volumes"].values())
        if "label" in filters:
            items = [v for v in items if _labels_match(v["Labels"], filters["label"])]
        return {"Volumes": items, "Warnings": []}

    return JSONResponse(_run(request, listing))


@_route("GET", "/volumes/{name}")
async def inspect_volume(request: Request) -> Response:
    name = request.path_params["name"]

    def inspect(_state, doc):
        if name not in doc["volumes"]:
            raise DockerError(404, f"get {name}: no such volume")
        return doc["volumes"][name]

    return JSONResponse(_run(request, inspect))


@_route("DELETE", "/volumes/{name}")
async def remove_volume(request: Request) -> Response:
    name = request.path_params["name"]

    def remove(_state, doc):
        if name not in doc["volumes"]:
            raise DockerError(404, f"get {name}: no such volume")
        users = [c["Id"] for c in doc["containers"].values() if name in _bound_volumes(c)]
        if users:
            raise DockerError(409, f"remove {name}: volume is in use - [{', '.join(users)}]")
        del doc["volumes"][name]

    _run(request, remove)
    return Response(status_code=204)


def settle(state: LocalCloudState, now: float) -> None:
    """Runner containers whose job time is up exit 0 (the runner deregistered itself); containers
    with a health check whose start period is over turn healthy."""
    doc = state.document(API)
    changed = False
    for container in doc.get("containers", {}).values():
        healthy_at = container.get("_healthy_at")
        if healthy_at is not None and healthy_at <= now and container["State"]["Running"]:
            container["State"]["Health"]["Status"] = "healthy"
            container["_healthy_at"] = None
            changed = True
        exit_at = container.get("_exit_at")
        if exit_at is not None and exit_at <= now and container["State"]["Running"]:
            _exit(state, container, 0)
            changed = True
    if changed:
        state.save(API)


# The daemon serves every endpoint both versioned and unversioned; the SDK always versions them.
router.include_router(engine, prefix="/v{api_version}")
router.include_router(engine)
