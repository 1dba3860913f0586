"""Hosted Docker services (seed 001) across the Temporal boundary: what a service can be made of
(`GET /service-types`), the jobs' names, the labels on what they make in Docker, and their typed
inputs and results."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from contracts.timeouts import JobTimeouts

# In the order `GET /service-types` lists them.
SERVICE_TYPES = (
    "Static",
    "PHP",
    "Node.js",
    "Python",
    "WordPress",
    "MySQL",
    "PostgreSQL",
    "Redis",
    "Filebrowser",
)
ServiceType = Literal[
    "Static",
    "PHP",
    "Node.js",
    "Python",
    "WordPress",
    "MySQL",
    "PostgreSQL",
    "Redis",
    "Filebrowser",
]

# --- Docker services as jobs ---------------------------------------------------------------------
# Histories hold these names: never change one without a patch.


class Operations:
    CREATE = "hosting_service_create"
    CONTROL = "hosting_service_control"


class Workflows:
    CREATE_DOCKER_SERVICE = "CreateDockerService"
    CONTROL_DOCKER_SERVICE = "ControlDockerService"


# Fetching a source and pulling images may take minutes; a control action takes seconds.
TIMEOUTS = {
    Workflows.CREATE_DOCKER_SERVICE: JobTimeouts(expected=timedelta(minutes=30)),
    Workflows.CONTROL_DOCKER_SERVICE: JobTimeouts(expected=timedelta(minutes=15)),
}


class ServiceSteps:
    FETCH_SOURCE = "hosting.services.fetch_source"
    WRITE_COMPOSE = "hosting.services.write_compose"
    CREATE_CONTAINERS = "hosting.services.create_containers"
    AWAIT_HEALTH = "hosting.services.await_health"
    MARK = "hosting.services.mark"
    POWER = "hosting.services.power"
    STATUS = "hosting.services.status"
    TEARDOWN = "hosting.services.teardown"
    DELETE_RECORD = "hosting.services.delete_record"


# Labels on everything a service job makes in Docker (containers, network, volumes): who manages it,
# the job that made it (compensation finds its own by it), the tenant and the service (a delete
# removes only what carries both). The Compose labels make `docker compose ls/ps` show the project.
MANAGED_BY_LABEL = "conneskills.managed-by"
MANAGED_BY_VALUE = "conneskills-hosting"
JOB_LABEL = "conneskills.job-id"
USER_LABEL = "conneskills.hosting-user"
SERVICE_ID_LABEL = "conneskills.hosting-service"
COMPOSE_PROJECT_LABEL = "com.docker.compose.project"
COMPOSE_SERVICE_LABEL = "com.docker.compose.service"

# The seed's actions; `stop` is accepted as another name of `shutdown`.
ControlAction = Literal["start", "shutdown", "restart", "delete"]
ACTION_ALIASES = {"stop": "shutdown"}

SERVICE_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
# Each type's Compose service name (and its container's): `cs-svc-7-nodejs-1`.
TYPE_SLUGS = {
    "Static": "static",
    "PHP": "php",
    "Node.js": "nodejs",
    "Python": "python",
    "WordPress": "wordpress",
    "MySQL": "mysql",
    "PostgreSQL": "postgresql",
    "Redis": "redis",
    "Filebrowser": "filebrowser",
}
SUBJECT_KIND = "hosting_service"


def project_name(service_id: int) -> str:
    """The Compose project of a service: derived from its id, unique across tenants."""
    return f"cs-svc-{service_id}"


class ServiceSource(BaseModel):
    """Where the service's files come from: an uploaded ZIP (its name in the uploads directory,
    which the job removes once extracted), a git repository over HTTPS, or nothing."""

    kind: Literal["zip", "git", "none"]
    upload_name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,200}$")
    git_url: str | None = Field(default=None, max_length=500)


class CreateDockerServiceInput(BaseModel):
    service_id: int = Field(ge=1)
    userid: str = Field(max_length=64)
    service_name: str = Field(pattern=SERVICE_NAME_PATTERN)
    service_types: list[ServiceType] = Field(min_length=1, max_length=len(SERVICE_TYPES))
    primary_app_type: ServiceType
    source: ServiceSource
    # The Filebrowser admin password as a bcrypt hash, made by the API: the job never sees the
    # password itself. None: no Filebrowser.
    filebrowser_password_hash: str | None = Field(default=None, max_length=200)
    health_timeout_seconds: float = Field(default=300.0, gt=0)


class ControlDockerServiceInput(BaseModel):
    service_id: int = Field(ge=1)
    userid: str = Field(max_length=64)
    service_name: str | None = None
    # The job that created the service (its workspace carries that job's id).
    owner_job_id: str = Field(max_length=200)
    action: ControlAction
    health_timeout_seconds: float = Field(default=300.0, gt=0)


class ServiceRef(BaseModel):
    service_id: int
    userid: str
    job_id: str


class FetchSourceInput(BaseModel):
    ref: ServiceRef
    source: ServiceSource


class FetchedSource(BaseModel):
    files: int
    bytes: int
    commit: str | None = None


class ContainerPlan(BaseModel):
    """One container of the service, as the Compose file describes it. Secret values are not here:
    the container reads them from the service's secrets file on the Docker host."""

    service: str
    service_type: ServiceType
    container_name: str
    image: str
    command: list[str] = Field(default_factory=list)
    environment: dict[str, str] = Field(default_factory=dict)
    secret_env: list[str] = Field(default_factory=list)
    port: int | None = None
    publish: bool = False
    app_mount: str | None = None
    app_mount_read_only: bool = False
    volume: str | None = None
    volume_mount: str | None = None
    healthcheck: list[str] = Field(default_factory=list)
    depends_on: list[str] = Field(default_factory=list)


class ServicePlan(BaseModel):
    project: str
    network: str
    containers: list[ContainerPlan]


class WriteComposeInput(BaseModel):
    ref: ServiceRef
    service_name: str
    service_types: list[ServiceType]
    primary_app_type: ServiceType
    filebrowser_password_hash: str | None = None


class CreateContainersInput(BaseModel):
    ref: ServiceRef
    plan: ServicePlan


class AccessPoint(BaseModel):
    service: str  # the Compose service name (TYPE_SLUGS)
    url: str


class HealthInput(BaseModel):
    ref: ServiceRef
    timeout_seconds: float
    poll_seconds: float = 1.0


class HealthResult(BaseModel):
    access: list[AccessPoint] = Field(default_factory=list)


class MarkInput(BaseModel):
    """The service's status, and its access URLs when given: `access_url(s)` as they are, or
    `access` (the live containers' published ports, after a control action; `[]` when stopped)
    from which the stored URLs are rebuilt, the primary one the row's primary type's."""

    ref: ServiceRef
    status: str
    access_url: str | None = None
    access_urls: dict[str, str] | None = None
    access: list[AccessPoint] | None = None


class PowerInput(BaseModel):
    ref: ServiceRef
    action: Literal["start", "shutdown", "restart"]


class ServiceStatus(BaseModel):
    """A service's recorded status (`running`, `stopped`…), None when it has no row."""

    status: str | None = None


class PowerResult(BaseModel):
    containers: list[str] = Field(default_factory=list)


class TeardownInput(BaseModel):
    """`by_job`: what this job made (compensation); otherwise everything of the service that
    carries the tenant's mark (a requested delete)."""

    ref: ServiceRef
    by_job: bool
    upload_name: str | None = None


class TeardownResult(BaseModel):
    containers: list[str] = Field(default_factory=list)
    networks: list[str] = Field(default_factory=list)
    volumes: list[str] = Field(default_factory=list)
    workspace_removed: bool = False


_REPO_PATH = re.compile(
    r"^/[A-Za-z0-9][A-Za-z0-9._-]{0,99}(?:/[A-Za-z0-9][A-Za-z0-9._-]{0,99}){1,4}$"
)


def git_repository(url: str, allowed_hosts: list[str]) -> tuple[str, str]:
    """(host, path) of a `git_repo_url`: HTTPS, an allowed host, no credentials, port, query or
    fragment, a plain repository path. Raises ValueError saying what is wrong."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise ValueError("must be an https:// URL")
    if parts.username or parts.password or "@" in parts.netloc:
        raise ValueError("must not carry credentials")
    if parts.port is not None or parts.query or parts.fragment:
        raise ValueError("must have no port, query or fragment")
    host = (parts.hostname or "").lower()
    if host not in {h.lower() for h in allowed_hosts}:
        raise ValueError(f"host {host or '(none)'} is not allowed: {', '.join(allowed_hosts)}")
    path = parts.path.rstrip("/")
    if not _REPO_PATH.match(path) or ".." in path:
        raise ValueError("must name a repository (https://host/owner/repo)")
    return host, path
