"""A hosted Docker service's life outside the platform: its workspace (the source from a ZIP or a git
repository, its Compose file, its generated database passwords), then through the Engine API a
labelled network, volumes and containers, their health, power actions, and the teardown that finds
everything by label. Every activity is idempotent: a retry finds what an earlier attempt made (by
name and the job's label) and goes on from there; "already gone" counts as done."""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

import structlog
from docker.errors import NotFound
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.blocking import settle_in_thread
from contracts.hosting.services import (
    COMPOSE_PROJECT_LABEL,
    COMPOSE_SERVICE_LABEL,
    JOB_LABEL,
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    SERVICE_ID_LABEL,
    TYPE_SLUGS,
    USER_LABEL,
    AccessPoint,
    ContainerPlan,
    CreateContainersInput,
    FetchedSource,
    FetchSourceInput,
    HealthInput,
    HealthResult,
    MarkInput,
    PowerInput,
    PowerResult,
    ServicePlan,
    ServiceRef,
    ServiceStatus,
    ServiceSteps,
    TeardownInput,
    TeardownResult,
    WriteComposeInput,
    git_repository,
)
from core.settings import Settings
from providers import docker_compose as compose
from providers import docker_engine, git, zip_archive
from store.db import Database
from store.hosting import services as store

log = structlog.get_logger(__name__)
# In each workspace: whose it is. Only the job (or tenant) named there removes it.
OWNER_FILE = ".conneskills-owner.json"
_NANO = 1_000_000_000


def _final(message: str, kind: str = "ServiceRejected") -> ApplicationError:
    return ApplicationError(message, type=kind, non_retryable=True)


class ServiceActivities:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db

    def all(self) -> list:
        return [
            self.fetch_source,
            self.write_compose,
            self.create_containers,
            self.await_health,
            self.mark,
            self.power,
            self.status,
            self.teardown,
            self.delete_record,
        ]

    # --- the workspace ---------------------------------------------------------------------

    def workspace(self, service_id: int) -> Path:
        return self.settings.resolved_hosting_workspaces_dir / str(service_id)

    def upload(self, name: str) -> Path:
        return self.settings.resolved_hosting_uploads_dir / name

    def _claim_workspace(self, ref: ServiceRef) -> Path:
        """The service's workspace, made for this job; one another job or tenant made is refused."""
        root = self.workspace(ref.service_id)
        owner = _owner(root)
        if owner is not None and owner.get("job_id") != ref.job_id:
            raise _final(f"the workspace of service {ref.service_id} belongs to another job")
        root.mkdir(parents=True, exist_ok=True, mode=0o750)
        (root / OWNER_FILE).write_text(
            json.dumps({"job_id": ref.job_id, "userid": ref.userid, "service_id": ref.service_id})
        )
        return root

    @activity.defn(name=ServiceSteps.FETCH_SOURCE)
    async def fetch_source(self, inp: FetchSourceInput) -> FetchedSource:
        """The app's files into `<workspace>/app`, afresh on every attempt: a ZIP extracted safely
        (then the upload is removed), or a depth-1 clone of the repository without its `.git`."""
        root = self._claim_workspace(inp.ref)
        app = root / compose.APP_DIR
        source = inp.source
        if source.kind == "zip":
            upload = self.upload(source.upload_name or "")
            if not upload.is_file():
                if app.is_dir():  # extracted by an attempt that did not get to report it
                    return FetchedSource(**_count(app))
                raise _final("the uploaded archive is gone", "NotFound")
            limits = zip_archive.ZipLimits(
                max_entries=self.settings.hosting_zip_max_entries,
                max_bytes=self.settings.hosting_zip_max_bytes,
                max_ratio=self.settings.hosting_zip_max_ratio,
            )
            try:
                summary = await settle_in_thread(
                    zip_archive.extract, upload, app, limits, heartbeat_details=("extracting",)
                )
            except zip_archive.ArchiveRefused as error:
                raise _final(f"the ZIP archive was refused: {error}", "ArchiveRefused") from None
            upload.unlink(missing_ok=True)
            return FetchedSource(files=summary.files, bytes=summary.bytes)
        if source.kind == "git":
            try:
                host, path = git_repository(source.git_url or "", self.settings.hosting_git_hosts)
            except ValueError as error:
                raise _final(f"git_repo_url {error}") from None
            url = self._clone_url(host, path)
            try:
                commit = await settle_in_thread(
                    git.clone_default_branch, url, app, heartbeat_details=("cloning",)
                )
            except git.GitError as error:
                shutil.rmtree(app, ignore_errors=True)
                raise ApplicationError(
                    str(error), type="GitFailed", non_retryable=not error.retryable
                ) from None
            shutil.rmtree(app / git.GIT_DIR, ignore_errors=True)
            counted = _count(app)
            if counted["bytes"] > self.settings.hosting_zip_max_bytes:
                shutil.rmtree(app, ignore_errors=True)
                raise _final(
                    f"the repository holds more than {self.settings.hosting_zip_max_bytes} bytes"
                )
            return FetchedSource(**counted, commit=commit)
        app.mkdir(exist_ok=True)
        return FetchedSource(files=0, bytes=0)

    def _clone_url(self, host: str, path: str) -> str:
        """github.com goes through `github_base_url` (the local cloud's git hosting when unset);
        other allowed hosts are cloned as given."""
        if host == "github.com":
            return f"{self.settings.resolved_github_base_url}{path.removesuffix('.git')}.git"
        return f"https://{host}{path}"

    @activity.defn(name=ServiceSteps.WRITE_COMPOSE)
    async def write_compose(self, inp: WriteComposeInput) -> ServicePlan:
        """The plan and its Compose file, kept in the workspace and with the service's row; the
        database passwords generated once into the workspace's secrets file (0600)."""
        root = self._claim_workspace(inp.ref)
        plan = compose.plan(
            inp.ref.service_id, list(inp.service_types), inp.filebrowser_password_hash
        )
        text = compose.compose_file(inp.service_name, plan)
        (root / compose.COMPOSE_FILE).write_text(text)
        _ensure_secrets(root / compose.SECRETS_FILE)
        async with self.db.transaction() as session:
            await store.update(session, inp.ref.service_id, compose_file=text)
        return plan

    # --- Docker ----------------------------------------------------------------------------

    async def _docker(self, what: str, fn, *args: Any) -> Any:
        def call() -> Any:
            with docker_engine.as_temporal_failures(what):
                return fn(docker_engine.client(self.settings), *args)

        return await settle_in_thread(call, heartbeat_details=(what,))

    def _labels(self, ref: ServiceRef, project: str, service: str | None = None) -> dict[str, str]:
        labels = {
            MANAGED_BY_LABEL: MANAGED_BY_VALUE,
            JOB_LABEL: ref.job_id,
            USER_LABEL: ref.userid,
            SERVICE_ID_LABEL: str(ref.service_id),
            COMPOSE_PROJECT_LABEL: project,
        }
        if service:
            labels[COMPOSE_SERVICE_LABEL] = service
        return labels

    @activity.defn(name=ServiceSteps.CREATE_CONTAINERS)
    async def create_containers(self, inp: CreateContainersInput) -> list[str]:
        """Network, volumes, then each container (created and started in plan order); what exists
        already is adopted only when it carries this job's label."""
        ref, plan = inp.ref, inp.plan
        root = self.workspace(ref.service_id)
        env_secrets = _read_secrets(root / compose.SECRETS_FILE)
        await self._docker(
            f"creating network {plan.network}",
            _ensure_network,
            plan.network,
            self._labels(ref, plan.project),
            ref.job_id,
        )
        ids = []
        for container in plan.containers:
            if container.volume:
                await self._docker(
                    f"creating volume {container.volume}",
                    _ensure_volume,
                    container.volume,
                    self._labels(ref, plan.project, container.service),
                    ref.job_id,
                )
            spec = _container_spec(
                container,
                plan,
                self._labels(ref, plan.project, container.service),
                root / compose.APP_DIR,
                {name: env_secrets.get(name, "") for name in container.secret_env},
            )
            ids.append(
                await self._docker(
                    f"starting container {container.container_name}",
                    _ensure_container,
                    container.image,
                    spec,
                    ref.job_id,
                )
            )
            activity.heartbeat(container.container_name)
        return ids

    @activity.defn(name=ServiceSteps.AWAIT_HEALTH)
    async def await_health(self, inp: HealthInput) -> HealthResult:
        """Polls the service's containers, heartbeating, until every one is running and healthy
        (one without a health check: running); an unhealthy or exited one fails the job."""
        deadline = time.monotonic() + inp.timeout_seconds
        while True:
            activity.heartbeat()
            states = await self._docker(
                "reading the service's containers", _service_states, inp.ref
            )
            if not states:
                raise _final(f"service {inp.ref.service_id} has no containers", "NotFound")
            bad = [s for s in states if s["health"] == "unhealthy" or s["status"] != "running"]
            if any(s["status"] in ("exited", "dead") for s in bad) or any(
                s["health"] == "unhealthy" for s in bad
            ):
                names = ", ".join(f"{s['name']} ({s['health'] or s['status']})" for s in bad)
                raise _final(f"containers did not become healthy: {names}", "ServiceUnhealthy")
            if all(s["status"] == "running" and s["health"] in ("healthy", None) for s in states):
                return HealthResult(access=self._access(states))
            if time.monotonic() > deadline:
                waiting = ", ".join(s["name"] for s in states if s["health"] != "healthy")
                raise _final(
                    f"containers not healthy after {inp.timeout_seconds:.0f} s: {waiting}",
                    "ServiceUnhealthy",
                )
            await asyncio.sleep(inp.poll_seconds)

    def _access(self, states: list[dict[str, Any]]) -> list[AccessPoint]:
        host = self.settings.hosting_public_host
        return [
            AccessPoint(service=s["service"], url=f"http://{host}:{s['port']}")
            for s in states
            if s["port"]
        ]

    @activity.defn(name=ServiceSteps.POWER)
    async def power(self, inp: PowerInput) -> PowerResult:
        """start / shutdown / restart every container of the service (the tenant's own only)."""
        names = await self._docker(
            f"{inp.action} of service {inp.ref.service_id}", _power, inp.ref, inp.action
        )
        return PowerResult(containers=names)

    @activity.defn(name=ServiceSteps.STATUS)
    async def status(self, inp: ServiceRef) -> ServiceStatus:
        """The status the service's row records (what a control that ends undone puts back)."""
        async with self.db.transaction() as session:
            row = await store.get(session, inp.service_id)
            return ServiceStatus(status=row.status if row is not None else None)

    @activity.defn(name=ServiceSteps.TEARDOWN)
    async def teardown(self, inp: TeardownInput) -> TeardownResult:
        """Containers, network and volumes found by label — this job's (compensation), or the
        tenant's service's (delete) — then the workspace if it is theirs, and a leftover upload."""
        result: TeardownResult = await self._docker(
            f"removing service {inp.ref.service_id}", _teardown, inp.ref, inp.by_job
        )
        root = self.workspace(inp.ref.service_id)
        owner = _owner(root)
        if owner is not None and (
            owner.get("job_id") == inp.ref.job_id
            if inp.by_job
            else owner.get("userid") == inp.ref.userid
        ):
            await settle_in_thread(shutil.rmtree, root, True)
            result.workspace_removed = True
        if inp.upload_name:
            self.upload(inp.upload_name).unlink(missing_ok=True)
        log.info(
            "service torn down",
            service_id=inp.ref.service_id,
            containers=len(result.containers),
            volumes=len(result.volumes),
        )
        return result

    @activity.defn(name=ServiceSteps.DELETE_RECORD)
    async def delete_record(self, inp: TeardownInput) -> bool:
        async with self.db.transaction() as session:
            return await store.remove(
                session, inp.ref.service_id, inp.ref.job_id if inp.by_job else None
            )

    @activity.defn(name=ServiceSteps.MARK)
    async def mark(self, inp: MarkInput) -> bool:
        values: dict[str, Any] = {"status": inp.status}
        if inp.access_urls is not None:
            values["access_urls"] = inp.access_urls
            values["access_url"] = inp.access_url
        async with self.db.transaction() as session:
            if inp.access is not None:
                row = await store.get(session, inp.ref.service_id)
                primary_type = row.primary_app_type if row is not None else None
                values["access_urls"], values["access_url"] = access_urls(inp.access, primary_type)
            return await store.update(session, inp.ref.service_id, **values)


def access_urls(
    access: list[AccessPoint], primary_type: str | None
) -> tuple[dict[str, str], str | None]:
    """The stored URLs from the published ports: by Compose service, and the primary one (the
    primary type's, else the first)."""
    urls = {point.service: point.url for point in access}
    primary = urls.get(TYPE_SLUGS.get(primary_type or "", ""), next(iter(urls.values()), None))
    return urls, primary


# --- workspace helpers -----------------------------------------------------------------------


def _owner(root: Path) -> dict[str, Any] | None:
    try:
        return json.loads((root / OWNER_FILE).read_text())
    except (OSError, ValueError):
        return None


def _count(app: Path) -> dict[str, int]:
    files = [p for p in app.rglob("*") if p.is_file() and not p.is_symlink()]
    return {"files": len(files), "bytes": sum(p.stat().st_size for p in files)}


def _ensure_secrets(path: Path) -> None:
    if path.exists():
        return
    mysql = secrets.token_urlsafe(24)
    values = {
        "MYSQL_PASSWORD": mysql,
        "MYSQL_ROOT_PASSWORD": secrets.token_urlsafe(24),
        "WORDPRESS_DB_PASSWORD": mysql,
        "POSTGRES_PASSWORD": secrets.token_urlsafe(24),
    }
    path.touch(mode=0o600)
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))


def _read_secrets(path: Path) -> dict[str, str]:
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return {}
    return dict(line.split("=", 1) for line in lines if "=" in line)


# --- blocking Docker calls (run in a thread) -------------------------------------------------


def _owned_by(labels: dict[str, str] | None, job_id: str, what: str) -> None:
    if (labels or {}).get(JOB_LABEL) != job_id:
        raise _final(f"{what} exists and is not this job's: refusing to adopt it", "Conflict")


def _ensure_network(docker, name: str, labels: dict[str, str], job_id: str) -> str:
    found = [n for n in docker.networks.list(names=[name]) if n.name == name]
    if found:
        _owned_by(found[0].attrs.get("Labels"), job_id, f"network {name}")
        return found[0].id
    return docker.networks.create(name, driver="bridge", labels=labels).id


def _ensure_volume(docker, name: str, labels: dict[str, str], job_id: str) -> str:
    try:
        volume = docker.volumes.get(name)
    except NotFound:
        return docker.volumes.create(name=name, labels=labels).name
    _owned_by(volume.attrs.get("Labels"), job_id, f"volume {name}")
    return volume.name


def _container_spec(
    container: ContainerPlan,
    plan: ServicePlan,
    labels: dict[str, str],
    app_dir: Path,
    secret_values: dict[str, str],
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "name": container.container_name,
        "labels": labels,
        "environment": {**container.environment, **secret_values},
        "network": plan.network,
        "restart_policy": {"Name": "unless-stopped"},
        "detach": True,
    }
    if container.command:
        spec["command"] = container.command
    if container.port and container.publish:
        # Docker picks a free host port; the access URL is read back from the container.
        spec["ports"] = {f"{container.port}/tcp": None}
    volumes: dict[str, dict[str, str]] = {}
    if container.app_mount:
        mode = "ro" if container.app_mount_read_only else "rw"
        volumes[str(app_dir)] = {"bind": container.app_mount, "mode": mode}
    if container.volume and container.volume_mount:
        volumes[container.volume] = {"bind": container.volume_mount, "mode": "rw"}
    if volumes:
        spec["volumes"] = volumes
    if container.healthcheck:
        spec["healthcheck"] = {
            "test": container.healthcheck,
            "interval": 10 * _NANO,
            "timeout": 5 * _NANO,
            "retries": 5,
            "start_period": 5 * _NANO,
        }
    return spec


def _ensure_container(docker, image: str, spec: dict[str, Any], job_id: str) -> str:
    try:
        existing = docker.containers.get(spec["name"])
    except NotFound:
        existing = None
    if existing is not None:
        _owned_by(existing.labels, job_id, f"container {spec['name']}")
        if existing.status in ("created", "exited"):
            existing.start()
        return existing.id
    _pull_if_missing(docker, image)
    return docker.containers.run(image, **spec).id


def _pull_if_missing(docker, image: str) -> None:
    from docker.errors import ImageNotFound

    try:
        docker.images.get(image)
    except ImageNotFound:
        repository, _, tag = image.rpartition(":")
        docker.images.pull(repository, tag=tag or "latest")


def _service_filter(ref: ServiceRef, by_job: bool) -> dict[str, list[str]]:
    labels = [f"{SERVICE_ID_LABEL}={ref.service_id}", f"{USER_LABEL}={ref.userid}"]
    labels.append(
        f"{JOB_LABEL}={ref.job_id}" if by_job else f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}"
    )
    return {"label": labels}


def _service_containers(docker, ref: ServiceRef, by_job: bool = False) -> list[dict[str, Any]]:
    return docker.api.containers(all=True, filters=_service_filter(ref, by_job))


def _service_states(docker, ref: ServiceRef) -> list[dict[str, Any]]:
    states = []
    for item in _service_containers(docker, ref):
        try:
            attrs = docker.api.inspect_container(item["Id"])
        except NotFound:
            continue
        state = attrs.get("State") or {}
        port = None
        for bindings in ((attrs.get("NetworkSettings") or {}).get("Ports") or {}).values():
            for binding in bindings or []:
                if binding.get("HostPort"):
                    port = binding["HostPort"]
                    break
        states.append(
            {
                "name": attrs["Name"].lstrip("/"),
                "service": (attrs.get("Config") or {}).get("Labels", {}).get(COMPOSE_SERVICE_LABEL),
                "status": state.get("Status"),
                "health": (state.get("Health") or {}).get("Status"),
                "port": port,
            }
        )
    return states


def _power(docker, ref: ServiceRef, action: str) -> list[str]:
    names = []
    for item in _service_containers(docker, ref):
        try:
            if action == "start":
                docker.api.start(item["Id"])
            elif action == "shutdown":
                docker.api.stop(item["Id"], timeout=10)
            else:
                docker.api.restart(item["Id"], timeout=10)
        except NotFound:
            continue
        names.append(item["Names"][0].lstrip("/"))
    return names


def _teardown(docker, ref: ServiceRef, by_job: bool) -> TeardownResult:
    result = TeardownResult()
    filters = _service_filter(ref, by_job)
    for item in docker.api.containers(all=True, filters=filters):
        try:
            docker.api.remove_container(item["Id"], force=True, v=False)
        except NotFound:
            continue
        result.containers.append(item["Names"][0].lstrip("/"))
    for network in docker.api.networks(filters=filters):
        try:
            docker.api.remove_network(network["Id"])
        except NotFound:
            continue
        result.networks.append(network["Name"])
    for volume in docker.api.volumes(filters=filters).get("Volumes") or []:
        try:
            docker.api.remove_volume(volume["Name"], force=True)
        except NotFound:
            continue
        result.volumes.append(volume["Name"])
    return result
