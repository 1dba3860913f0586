"""What each service type runs (image, port, mounts, health check) and the Compose file of a service
made of several: the plan the job creates through the Engine API, and the same plan as the
`docker-compose.yml` kept with the service (shown by `GET /service/{id}`, usable by hand)."""

from __future__ import annotations

import yaml

from contracts.hosting.services import TYPE_SLUGS, ContainerPlan, ServicePlan, project_name

# Inside the service's workspace: the app's files (what a ZIP or repository brings), the Compose
# file, and the generated database passwords (never in the app folder, which a container serves).
APP_DIR = "app"
COMPOSE_FILE = "docker-compose.yml"
SECRETS_FILE = "secrets.env"

_HTTP_CHECK = "wget -q -O /dev/null http://127.0.0.1:{port}/ || exit 1"
DB_SECRETS = {
    "MySQL": ["MYSQL_PASSWORD", "MYSQL_ROOT_PASSWORD"],
    "PostgreSQL": ["POSTGRES_PASSWORD"],
}


def slug(service_type: str) -> str:
    return TYPE_SLUGS[service_type]


def _container(service_id: int, service_type: str, **fields) -> ContainerPlan:
    name = slug(service_type)
    return ContainerPlan(
        service=name,
        service_type=service_type,
        container_name=f"{project_name(service_id)}-{name}-1",
        **fields,
    )


_SHELL = "CMD-SHELL"

# What each type runs, apart from its names (`_container`) and its data volume (`volume_mount`).
_TYPES: dict[str, dict] = {
    "Static": dict(
        image="nginx:1.27-alpine",
        port=80,
        publish=True,
        app_mount="/usr/share/nginx/html",
        app_mount_read_only=True,
        healthcheck=[_SHELL, _HTTP_CHECK.format(port=80)],
    ),
    "PHP": dict(
        image="php:8.3-apache",
        port=80,
        publish=True,
        app_mount="/var/www/html",
        healthcheck=[_SHELL, "php -r 'exit(@fsockopen(\"127.0.0.1\", 80) ? 0 : 1);'"],
    ),
    "Node.js": dict(
        image="node:20-alpine",
        command=["sh", "-c", "cd /app && (npm ci --omit=dev || npm install) && npm start"],
        environment={"PORT": "3000", "NODE_ENV": "production"},
        port=3000,
        publish=True,
        app_mount="/app",
        healthcheck=[_SHELL, _HTTP_CHECK.format(port=3000)],
    ),
    "Python": dict(
        image="python:3.12-slim",
        command=[
            "sh",
            "-c",
            "cd /app && if [ -f requirements.txt ]; then pip install --no-cache-dir "
            "-r requirements.txt; fi && exec python app.py",
        ],
        environment={"PORT": "8000"},
        port=8000,
        publish=True,
        app_mount="/app",
        healthcheck=[
            _SHELL,
            "python -c \"import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/')\"",
        ],
    ),
    "WordPress": dict(
        image="wordpress:6-apache",
        environment={"WORDPRESS_DB_NAME": "app", "WORDPRESS_DB_USER": "app"},
        port=80,
        publish=True,
        volume_mount="/var/www/html",
        healthcheck=[_SHELL, "curl -fsS -o /dev/null http://127.0.0.1/ || exit 1"],
    ),
    "MySQL": dict(
        image="mysql:8.4",
        environment={"MYSQL_DATABASE": "app", "MYSQL_USER": "app"},
        secret_env=DB_SECRETS["MySQL"],
        port=3306,
        volume_mount="/var/lib/mysql",
        healthcheck=[_SHELL, "mysqladmin ping -h 127.0.0.1 --silent"],
    ),
    "PostgreSQL": dict(
        image="postgres:16-alpine",
        environment={"POSTGRES_DB": "app", "POSTGRES_USER": "app"},
        secret_env=DB_SECRETS["PostgreSQL"],
        port=5432,
        volume_mount="/var/lib/postgresql/data",
        healthcheck=[_SHELL, "pg_isready -U app -d app"],
    ),
    "Redis": dict(
        image="redis:7-alpine",
        port=6379,
        volume_mount="/data",
        healthcheck=["CMD", "redis-cli", "ping"],
    ),
}


def _for_type(service_id: int, service_type: str, types: list[str], volume: str) -> ContainerPlan:
    if service_type not in _TYPES:
        raise ValueError(f"no container for service type {service_type}")
    fields = dict(_TYPES[service_type])
    if "volume_mount" in fields:
        fields["volume"] = volume
    if service_type == "WordPress" and "MySQL" in types:
        # WordPress runs on the service's MySQL when it has one (else on its own settings).
        fields["environment"] = {**fields["environment"], "WORDPRESS_DB_HOST": "mysql"}
        fields["secret_env"] = ["WORDPRESS_DB_PASSWORD"]
        fields["depends_on"] = ["mysql"]
    return _container(service_id, service_type, **fields)


def _filebrowser(service_id: int, password_hash: str) -> ContainerPlan:
    return _container(
        service_id,
        "Filebrowser",
        image="filebrowser/filebrowser:v2.31.2",
        command=[
            "--root=/srv",
            "--address=0.0.0.0",
            "--port=80",
            "--database=/tmp/filebrowser.db",
            "--username=admin",
            f"--password={password_hash}",
        ],
        port=80,
        publish=True,
        app_mount="/srv",
        healthcheck=[_SHELL, _HTTP_CHECK.format(port=80) + "health"],
    )


def plan(
    service_id: int, service_types: list[str], filebrowser_password_hash: str | None
) -> ServicePlan:
    """One container per type in the order given (databases first, so apps find them), plus
    Filebrowser on the app's files when a password hash is given."""
    project = project_name(service_id)
    order = sorted(
        dict.fromkeys(t for t in service_types if t != "Filebrowser"),
        key=lambda t: (t not in ("MySQL", "PostgreSQL", "Redis"), service_types.index(t)),
    )
    containers = [_for_type(service_id, t, order, f"{project}_{slug(t)}-data") for t in order]
    if filebrowser_password_hash:
        containers.append(_filebrowser(service_id, filebrowser_password_hash))
    return ServicePlan(project=project, network=f"{project}_default", containers=containers)


def compose_file(service_name: str, service_plan: ServicePlan) -> str:
    """The plan as a Compose file: the same images, commands, ports, mounts and health checks;
    secrets by reference to the workspace's secrets file, never by value."""
    services: dict[str, dict] = {}
    volumes: dict[str, dict] = {}
    for container in service_plan.containers:
        entry: dict = {"image": container.image, "container_name": container.container_name}
        if container.command:
            entry["command"] = container.command
        if container.environment:
            entry["environment"] = dict(container.environment)
        if container.secret_env:
            entry["env_file"] = [SECRETS_FILE]
        if container.port and container.publish:
            entry["ports"] = [f"{container.port}"]
        mounts = []
        if container.app_mount:
            mode = ":ro" if container.app_mount_read_only else ""
            mounts.append(f"./{APP_DIR}:{container.app_mount}{mode}")
        if container.volume and container.volume_mount:
            short = container.volume.removeprefix(f"{service_plan.project}_")
            volumes[short] = {}
            mounts.append(f"{short}:{container.volume_mount}")
        if mounts:
            entry["volumes"] = mounts
        if container.healthcheck:
            entry["healthcheck"] = {
                "test": container.healthcheck,
                "interval": "10s",
                "timeout": "5s",
                "retries": 5,
            }
        if container.depends_on:
            entry["depends_on"] = {
                name: {"condition": "service_healthy"} for name in container.depends_on
            }
        entry["restart"] = "unless-stopped"
        services[container.service] = entry
    document: dict = {"name": service_plan.project, "services": services}
    if volumes:
        document["volumes"] = volumes
    header = (
        f"# {service_name}: written by the ConneSkills platform (project {service_plan.project})\n"
    )
    return header + yaml.safe_dump(document, sort_keys=False, default_flow_style=False)
