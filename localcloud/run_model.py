"""Cloud Run v2 Service resources: validating a spec, filling the server's defaults and status fields."""

from __future__ import annotations

import copy
import re
import uuid
from typing import Any

from google.cloud import run_v2

from localcloud import naming, protojson
from localcloud.errors import invalid

SERVICE_TYPE = "type.googleapis.com/google.cloud.run.v2.Service"
_SERVICE_ID = re.compile(r"^[a-z]([a-z0-9-]{0,47}[a-z0-9])?$")
# Fields a client sets; everything else on a Service is output only and ignored on input.
_SPEC_FIELDS = (
    "description",
    "labels",
    "annotations",
    "client",
    "clientVersion",
    "ingress",
    "launchStage",
    "binaryAuthorization",
    "template",
    "traffic",
    "scaling",
    "invokerIamDisabled",
    "defaultUriDisabled",
    "iapEnabled",
    "multiRegionSettings",
    "customAudiences",
    "buildConfig",
)
_REGION_CODES = {
    "us-central1": "uc",
    "us-east1": "ue",
    "us-east4": "uk",
    "us-west1": "uw",
    "europe-west1": "ew",
    "europe-west2": "nw",
    "europe-west3": "ey",
    "europe-west4": "ez",
    "asia-northeast1": "an",
    "southamerica-east1": "rj",
}
_LATEST = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"
_REVISION = "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION"
CREATOR = "localcloud-user@localcloud.iam.gserviceaccount.com"


def validate_service_id(service_id: str | None) -> str:
    if not service_id:
        raise invalid("service_id must be specified.")
    if not _SERVICE_ID.match(service_id):
        raise invalid(
            f"Invalid value specified for service_id: {service_id!r}. The service ID must be 1-49 "
            "characters long, contain only lowercase letters, digits and hyphens, begin with a "
            "letter, and not end with a hyphen."
        )
    return service_id


def parse_spec(body: Any) -> dict[str, Any]:
    """The client-settable part of a Service body, validated like the API validates it."""
    service = protojson.parse(body, run_v2.Service, "service")
    spec = {key: service[key] for key in _SPEC_FIELDS if key in service}
    containers = spec.get("template", {}).get("containers", [])
    if not containers:
        raise invalid("template.containers: at least one container must be specified.")
    for index, container in enumerate(containers):
        if not container.get("image"):
            raise invalid(f"template.containers[{index}].image: an image must be specified.")
    percents = [t.get("percent", 0) for t in spec.get("traffic", [])]
    if percents and sum(percents) != 100:
        raise invalid(f"traffic: percentages must add up to 100, got {sum(percents)}.")
    return {**spec, "_name": service.get("name", "")}


def region_code(location: str) -> str:
    if location in _REGION_CODES:
        return _REGION_CODES[location]
    parts = re.sub(r"\d+$", "", location).split("-")
    return "".join(p[0] for p in parts if p)[:2] or "zz"


def new_service(
    project: str, location: str, service_id: str, spec: dict[str, Any], now: float
) -> dict[str, Any]:
    name = f"projects/{project}/locations/{location}/services/{service_id}"
    stamp = naming.rfc3339(now)
    service: dict[str, Any] = {
        "name": name,
        "uid": str(uuid.uuid4()),
        "generation": "0",
        "createTime": stamp,
        "creator": CREATOR,
    }
    if not spec.get("defaultUriDisabled"):
        number = naming.project_number(project)
        uri = f"https://{service_id}-{naming.short_hash(project)}-{region_code(location)}.a.run.app"
        service["uri"] = uri
        service["urls"] = [f"https://{service_id}-{number}.{location}.run.app", uri]
    return service


def apply_spec(
    service: dict[str, Any], spec: dict[str, Any], project: str, now: float, revision_number: int
) -> tuple[dict[str, Any], bool]:
    """Put a new spec on a service; returns (service, whether it needs a new revision)."""
    service = copy.deepcopy(service)
    old_template = service.get("template")
    for key in _SPEC_FIELDS:
        service.pop(key, None)
    service.update({k: copy.deepcopy(v) for k, v in spec.items() if not k.startswith("_")})
    service.setdefault("ingress", "INGRESS_TRAFFIC_ALL")
    service.setdefault("launchStage", "GA")
    service.setdefault("traffic", [{"type": _LATEST, "percent": 100}])
    service_id = service["name"].rsplit("/", 1)[-1]
    template = _template_defaults(service["template"], project)
    # A new revision only when the template changed, as Cloud Run does (traffic-only updates don't).
    new_revision = old_template is None or _without_revision(template) != _without_revision(
        old_template
    )
    if new_revision:
        requested = template.get("revision")
        if requested and not requested.startswith(f"{service_id}-"):
            raise invalid(
                f"template.revision must be prefixed with the service name {service_id}-."
            )
        revision = requested or f"{service_id}-{revision_number:05d}-{naming.random_letters()}"
        service["latestCreatedRevision"] = f"{service['name']}/revisions/{revision}"
    service["template"] = template
    service["generation"] = str(int(service.get("generation", "0")) + 1)
    service["observedGeneration"] = service["generation"]
    service["updateTime"] = naming.rfc3339(now)
    service["lastModifier"] = CREATOR
    return service, new_revision


def mark_reconciling(service: dict[str, Any], now: float) -> None:
    stamp = naming.rfc3339(now)
    service["reconciling"] = True
    service["terminalCondition"] = {
        "type": "Ready",
        "state": "CONDITION_PENDING",
        "lastTransitionTime": stamp,
    }
    service["conditions"] = [
        {"type": kind, "state": "CONDITION_PENDING", "lastTransitionTime": stamp}
        for kind in ("RoutesReady", "ConfigurationsReady")
    ]
    _retag(service)


def mark_ready(service: dict[str, Any], now: float) -> None:
    stamp = naming.rfc3339(now)
    service.pop("reconciling", None)
    service["terminalCondition"] = {
        "type": "Ready",
        "state": "CONDITION_SUCCEEDED",
        "lastTransitionTime": stamp,
    }
    service["conditions"] = [
        {"type": kind, "state": "CONDITION_SUCCEEDED", "lastTransitionTime": stamp}
        for kind in ("RoutesReady", "ConfigurationsReady")
    ]
    if "latestCreatedRevision" in service:
        service["latestReadyRevision"] = service["latestCreatedRevision"]
    service["trafficStatuses"] = _traffic_statuses(service)
    _retag(service)


def mark_failed(service: dict[str, Any], now: float, message: str) -> None:
    stamp = naming.rfc3339(now)
    service.pop("reconciling", None)
    failed = {
        "type": "Ready",
        "state": "CONDITION_FAILED",
        "message": message,
        "lastTransitionTime": stamp,
        "reason": "REVISION_FAILED",
    }
    service["terminalCondition"] = failed
    service["conditions"] = [
        {**failed, "type": "ConfigurationsReady"},
        {"type": "RoutesReady", "state": "CONDITION_FAILED", "lastTransitionTime": stamp},
    ]
    _retag(service)


def revision_id(revision_path: str | None) -> str:
    return (revision_path or "").rsplit("/", 1)[-1]


def _template_defaults(template: dict[str, Any], project: str) -> dict[str, Any]:
    template = copy.deepcopy(template)
    template.setdefault("scaling", {"maxInstanceCount": 100})
    template.setdefault("timeout", "300s")
    template.setdefault(
        "serviceAccount", f"{naming.project_number(project)}-compute@developer.gserviceaccount.com"
    )
    template.setdefault("maxInstanceRequestConcurrency", 80)
    containers = template["containers"]
    # Only the ingress container gets a port; with sidecars the client must name it.
    if not any(c.get("ports") for c in containers) and len(containers) == 1:
        containers[0]["ports"] = [{"name": "http1", "containerPort": 8080}]
    for container in containers:
        resources = container.setdefault("resources", {})
        limits = resources.setdefault("limits", {})
        limits.setdefault("cpu", "1000m")
        limits.setdefault("memory", "512Mi")
        resources.setdefault("cpuIdle", True)
        resources.setdefault("startupCpuBoost", True)
        ports = container.get("ports")
        if ports and "startupProbe" not in container:
            container["startupProbe"] = {
                "timeoutSeconds": 240,
                "periodSeconds": 240,
                "failureThreshold": 1,
                "tcpSocket": {"port": ports[0].get("containerPort", 8080)},
            }
    return template


def _without_revision(template: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in template.items() if k != "revision"}


def _traffic_statuses(service: dict[str, Any]) -> list[dict[str, Any]]:
    statuses = []
    for target in service.get("traffic", []):
        status = {"type": target.get("type", _LATEST), "percent": target.get("percent", 0)}
        if target.get("revision"):
            status["revision"] = target["revision"]
            status["type"] = _REVISION
        if target.get("tag"):
            status["tag"] = target["tag"]
            if "uri" in service:
                status["uri"] = service["uri"].replace("https://", f"https://{target['tag']}---", 1)
        statuses.append({k: v for k, v in status.items() if v})
    return statuses


def _retag(service: dict[str, Any]) -> None:
    service.pop("etag", None)
    service["etag"] = naming.etag(sorted(service.items()))
