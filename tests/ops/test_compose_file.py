"""docker-compose.yml's structure (no Docker here): the services, their order of start, pinned
images, the settings every platform process needs, the shared Redis, the `local` profile,
`.env.example`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic import AliasChoices, SecretStr

from core.settings import Settings
from temporal import search_attributes
from tests.helpers.platform import ROOT

COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
# ${NAME}, ${NAME:-default}, ${NAME:?message}; `$$` escapes a dollar for the container's shell.
VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])((?:[^{}]|\{[^{}]*\})*))?\}")

INFRA = {"postgres", "redis", "temporal", "temporal-ui", "api-proxy"}
ONE_SHOT = {"temporal-schema", "temporal-namespace", "migrate"}
PLATFORM = {"api", "gateway", "migrate"}
LOCAL = {"localcloud", "zenml-mysql"}
MONITORING = {"prometheus", "grafana"}
LONG_RUNNING_WITH_HEALTH = {
    "postgres",
    "redis",
    "temporal",
    "api",
    "api-proxy",
    "gateway",
    *LOCAL,
    *MONITORING,
}
TEMPORAL_VERSION = "1.31.0"
REDIS_URL = "redis://redis:6379/0"


def _interpolate(text: str) -> str:
    """What compose does with an empty .env: each variable becomes its default."""
    return VARIABLE.sub(
        lambda m: _interpolate(m.group(3) or "") if m.group(2) in (":-", "-") else "x", text
    )


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(_interpolate(COMPOSE.read_text()))


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def systems() -> set[str]:
    """Each system the worker registers: a workflows/<system>/catalog.py."""
    return {path.parent.name for path in (ROOT / "workflows").glob("*/catalog.py")}


def worker_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        name: s for name, s in services.items() if s.get("command", [None])[1:2] == ["worker.py"]
    }


def _env_name(name: str) -> str:
    alias = Settings.model_fields[name].validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"{Settings.model_config['env_prefix']}{name}".upper()


def settings_a_container_must_set() -> set[str]:
    """From the Settings model: what has no default, what defaults to this machine's loopback (in a
    container that is the container itself), and what defaults to a file under the data dir (each
    container would make its own: replicas would disagree on keys, or each get its own SQLite)."""
    needed = set()
    for name, field in Settings.model_fields.items():
        if field.is_required():
            needed.add(name)
            continue
        default = field.get_default(call_default_factory=True)
        if isinstance(default, SecretStr):
            default = default.get_secret_value()
        if "127.0.0.1" in str(default) or "localhost" in str(default):
            needed.add(name)
    per_machine_files = {"codec_key", "admin_api_key", "database_url"}
    assert per_machine_files <= set(Settings.model_fields)
    return {_env_name(name) for name in needed | per_machine_files}


def test_the_expected_services_are_there(services):
    workers = {f"worker-{system}" for system in systems()}
    expected = INFRA | ONE_SHOT | PLATFORM | LOCAL | MONITORING | workers | {"temporal-schema"}
    assert expected <= set(services), expected - set(services)


def test_the_start_order_and_its_conditions(services):
    def needs(service: str) -> dict[str, str]:
        return {name: dep["condition"] for name, dep in services[service]["depends_on"].items()}

    assert needs("temporal-schema") == {"postgres": "service_healthy"}
    assert needs("temporal") == {"temporal-schema": "service_completed_successfully"}
    assert needs("temporal-namespace") == {"temporal": "service_healthy"}
    assert needs("temporal-ui") == {"temporal": "service_healthy"}
    assert needs("migrate") == {"postgres": "service_healthy"}
    ready = {
        "migrate": "service_completed_successfully",
        "temporal-namespace": "service_completed_successfully",
    }
    # The API's shared rate limits are in Redis: a replica starts once it answers.
    assert needs("api") == {**ready, "redis": "service_healthy"}
    assert needs("api-proxy") == {"api": "service_healthy"}
    for name, worker in worker_services(services).items():
        # Workers keep nothing in Redis: they do not wait for it.
        assert {k: v for k, v in needs(name).items() if k != "localcloud"} == ready, name
        # The local cloud is a dependency only when its profile is on.
        assert worker["depends_on"]["localcloud"]["required"] is False


def test_long_running_infra_has_healthchecks(services):
    for name in LONG_RUNNING_WITH_HEALTH:
        assert services[name].get("healthcheck", {}).get("test"), name


def test_one_shot_jobs_are_not_restarted_once_done(services):
    for name in ONE_SHOT:
        assert str(services[name].get("restart", "no")).startswith(("no", "on-failure")), name


def test_every_image_is_pinned_and_none_is_deprecated(services):
    for name, service in services.items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and "/" not in tag, f"{name}: {image} has no tag"
        assert tag not in ("latest", "x", ""), f"{name}: {image}"
        assert "auto-setup" not in image, f"{name}: temporalio/auto-setup is deprecated"
    assert services["temporal"]["image"] == f"temporalio/server:{TEMPORAL_VERSION}"
    for name in ("temporal-schema", "temporal-namespace"):
        assert services[name]["image"] == f"temporalio/admin-tools:{TEMPORAL_VERSION}"
    assert services["temporal-ui"]["image"] == "temporalio/ui:2.49.1"
    assert re.fullmatch(r"redis:7\.4\.\d+-alpine", services["redis"]["image"])
    assert re.fullmatch(r"prom/prometheus:v3\.\d+\.\d+", services["prometheus"]["image"])
    assert re.fullmatch(r"grafana/grafana:12\.\d+\.\d+", services["grafana"]["image"])


def test_temporal_runs_on_postgres_with_sql_visibility(services):
    env = services["temporal"]["environment"]
    assert env["DB"] == "postgres12"
    assert {"POSTGRES_SEEDS", "DB_PORT", "POSTGRES_USER", "POSTGRES_PWD"} <= set(env)
    assert (env["DBNAME"], env["VISIBILITY_DBNAME"]) == ("temporal", "temporal_visibility")
    assert services["temporal-schema"]["environment"]["DBNAME"] == "temporal"
    assert services["temporal-schema"]["environment"]["VISIBILITY_DBNAME"] == "temporal_visibility"
    script = (ROOT / "deploy/compose/temporal-schema.sh").read_text()
    for piece in (
        "--plugin postgres12",
        "create",
        "setup-schema -v 0.0",
        "update-schema -d",
        "/etc/temporal/schema/postgresql/v12",
        "$DBNAME:temporal",
        "VISIBILITY_DBNAME:visibility",
    ):
        assert piece in script, piece


def test_the_namespace_job_registers_the_platforms_search_attributes(services):
    env = services["temporal-namespace"]["environment"]
    declared = dict(pair.split("=") for pair in env["SEARCH_ATTRIBUTES"].split())
    flags = search_attributes.cli_flags()
    wanted = dict(value.split("=") for value in flags[1::2])
    assert declared == wanted
    assert env["TEMPORAL_NAMESPACE"] == Settings.model_fields["temporal_namespace"].default


def test_every_platform_process_gets_what_it_cannot_default(services):
    needed = settings_a_container_must_set()
    assert "CONNESKILLS_TEMPORAL_ADDRESS" in needed and "CONNESKILLS_CODEC_KEY" in needed
    for name in PLATFORM | set(worker_services(services)):
        missing = needed - set(services[name]["environment"])
        assert not missing, f"{name} lacks {sorted(missing)}"


def test_every_platform_process_shares_one_redis(services):
    """Several API replicas share their rate limits only through Redis (docs/deploying.md): each
    platform process names the compose file's Redis, which keeps nothing and publishes no port."""
    for name in PLATFORM | set(worker_services(services)):
        assert services[name]["environment"]["CONNESKILLS_REDIS_URL"] == REDIS_URL, name
    redis = services["redis"]
    assert urlsplit(REDIS_URL).hostname == "redis"
    assert "ports" not in redis
    assert redis["command"][:1] == ["redis-server"]
    assert "redis-cli ping" in " ".join(redis["healthcheck"]["test"])
    assert str(redis["restart"]) == "unless-stopped"


def test_api_replicas_leave_migrations_to_the_migrate_job(services):
    api = services["api"]
    assert api["environment"]["CONNESKILLS_MIGRATE_ON_START"] == "false"
    assert services["migrate"]["command"] == ["python", "-m", "store.migrate"]
    # Scalable: no fixed name, no host port (api-proxy publishes one for all replicas).
    assert "container_name" not in api
    assert "ports" not in api
    assert services["api-proxy"]["ports"]


def test_no_service_has_a_fixed_container_name(services):
    assert [name for name, s in services.items() if "container_name" in s] == []


def test_one_worker_per_system(services):
    workers = worker_services(services)
    by_system = {}
    for name, worker in workers.items():
        command = worker["command"]
        assert command[:3] == ["python", "worker.py", "--systems"], name
        by_system.setdefault(command[3], []).append(name)
    assert set(by_system) == systems()
    assert all(len(names) == 1 for names in by_system.values()), by_system


def test_the_local_cloud_only_under_the_local_profile(services):
    for name, service in services.items():
        if name in LOCAL:
            assert service.get("profiles") == ["local"], name
        else:
            assert "profiles" not in service, name


def test_env_example_lists_every_variable_the_compose_file_uses():
    used = {m.group(1) for m in VARIABLE.finditer(COMPOSE.read_text())}
    listed = {
        line.split("=", 1)[0]
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert used - listed == set()
    assert listed - used == set()


def test_secrets_are_required_and_not_written_in_the_file():
    text = COMPOSE.read_text()
    for secret in (
        "TEMPORAL_DB_PASSWORD",
        "PLATFORM_DB_PASSWORD",
        "CONNESKILLS_ADMIN_API_KEY",
        "CONNESKILLS_CODEC_KEY",
        "CONNESKILLS_ZENML_MYSQL_URL",
        "LOCAL_MYSQL_ROOT_PASSWORD",
        "GRAFANA_ADMIN_PASSWORD",
    ):
        assert f"${{{secret}:?" in text, secret
    example = {
        k: v
        for k, _, v in (
            line.partition("=")
            for line in ENV_EXAMPLE.read_text().splitlines()
            if line and not line.startswith("#")
        )
    }
    assert example["TEMPORAL_DB_PASSWORD"] == example["CONNESKILLS_CODEC_KEY"] == ""


def test_no_dynamic_config_is_left_for_what_the_server_now_does_by_default(services):
    assert not any("DYNAMIC_CONFIG" in key for key in services["temporal"]["environment"])
    assert not Path(ROOT / "temporal-dynamicconfig.yaml").exists()


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    """container path → host path (relative to the repository) of a service's bind mounts."""
    mounts = {}
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        if source.startswith("./"):
            assert (ROOT / source).exists(), volume
            mounts[target] = source
    return mounts


def test_prometheus_scrapes_every_metrics_endpoint_of_the_platform(services):
    """Each API replica and each worker service found by DNS (so `--scale` needs no change), the
    gateway by name, each at the port its process serves /metrics on by default."""
    prometheus = services["prometheus"]
    config_path = _mounts(prometheus)["/etc/prometheus/prometheus.yml"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    jobs = {
        job["job_name"]: job
        for job in yaml.safe_load((ROOT / config_path).read_text())["scrape_configs"]
    }
    assert set(jobs) == {"api", "gateway", "worker"}
    defaults = {name: field.default for name, field in Settings.model_fields.items()}

    [api] = jobs["api"]["dns_sd_configs"]
    assert (api["names"], api["type"], api["port"]) == (["api"], "A", defaults["api_port"])
    assert "CONNESKILLS_API_PORT" not in services["api"]["environment"]
    assert jobs["gateway"]["static_configs"] == [
        {"targets": [f"gateway:{defaults['gateway_port']}"]}
    ]
    [workers] = jobs["worker"]["dns_sd_configs"]
    assert set(workers["names"]) == set(worker_services(services))
    assert (workers["type"], workers["port"]) == ("A", defaults["worker_metrics_port"])
    for name in worker_services(services):
        # Listening beyond the container's loopback, on the default port.
        env = services[name]["environment"]
        assert env["CONNESKILLS_WORKER_METRICS_HOST"] == "0.0.0.0"
        assert "CONNESKILLS_WORKER_METRICS_PORT" not in env
        assert env.get("CONNESKILLS_METRICS_ENABLED", "true") != "false"
    assert prometheus["ports"] == ["127.0.0.1:9090:9090"]  # no authentication: loopback only


def test_grafana_is_provisioned_with_prometheus_and_the_platforms_dashboard(services):
    grafana = services["grafana"]
    assert grafana["depends_on"] == {"prometheus": {"condition": "service_healthy"}}
    mounts = _mounts(grafana)
    provisioning = ROOT / mounts["/etc/grafana/provisioning"]
    [source] = yaml.safe_load((provisioning / "datasources/prometheus.yml").read_text())[
        "datasources"
    ]
    assert (source["type"], source["url"]) == ("prometheus", "http://prometheus:9090")
    [provider] = yaml.safe_load((provisioning / "dashboards/conneskills.yml").read_text())[
        "providers"
    ]
    assert provider["options"]["path"] == "/etc/grafana/dashboards"
    dashboards = ROOT / mounts["/etc/grafana/dashboards"]
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (dashboards / Path(home).name).exists()
    for path in dashboards.glob("*.json"):
        dashboard = json.loads(path.read_text())
        uids = {
            target["datasource"]["uid"]
            for panel in dashboard["panels"]
            for target in panel["targets"]
        }
        assert uids == {source["uid"]}, path
    assert grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD"] == "x"  # required from .env
