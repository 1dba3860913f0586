"""The Cloud Logging entries Cloud Run writes about a service: audit records, system lines, requests."""

from __future__ import annotations

import random
from typing import Any

from localcloud import logstore, naming, run_model
from localcloud.state import LocalCloudState

_AUDIT_ACTIVITY = "cloudaudit.googleapis.com%2Factivity"
_SYSTEM = "run.googleapis.com%2Fvarlog%2Fsystem"
_REQUESTS = "run.googleapis.com%2Frequests"
_STDOUT = "run.googleapis.com%2Fstdout"
_METHODS = {
    "create": "google.cloud.run.v2.Services.CreateService",
    "update": "google.cloud.run.v2.Services.UpdateService",
    "delete": "google.cloud.run.v2.Services.DeleteService",
}


def _resource(service: dict[str, Any]) -> dict[str, Any]:
    _, project, _, location, _, service_id = service["name"].split("/")
    return {
        "type": "cloud_run_revision",
        "labels": {
            "project_id": project,
            "location": location,
            "service_name": service_id,
            "configuration_name": service_id,
            "revision_name": run_model.revision_id(service.get("latestCreatedRevision")),
        },
    }


def _entry(service: dict[str, Any], log: str, when: float, severity: str, **payload: Any) -> dict:
    project = service["name"].split("/")[1]
    entry = {
        "logName": f"projects/{project}/logs/{log}",
        "resource": _resource(service),
        "timestamp": naming.rfc3339(when),
        "severity": severity,
        **payload,
    }
    revision = entry["resource"]["labels"]["revision_name"]
    if log != _AUDIT_ACTIVITY and revision:
        entry["labels"] = {"instanceId": naming.short_hash(revision, str(when), length=32)}
    return entry


def accepted(state: LocalCloudState, kind: str, service: dict[str, Any], when: float) -> None:
    """The admin call itself, logged when the API accepts it."""
    audit = {
        "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
        "status": {},
        "authenticationInfo": {"principalEmail": run_model.CREATOR},
        "serviceName": "run.googleapis.com",
        "methodName": _METHODS[kind],
        "resourceName": service["name"],
    }
    entries = [_entry(service, _AUDIT_ACTIVITY, when, "NOTICE", protoPayload=audit)]
    service_id = service["name"].rsplit("/", 1)[-1]
    revision = run_model.revision_id(service.get("latestCreatedRevision"))
    if kind == "delete":
        text = f"Deleting service {service_id}."
    else:
        text = f"Deploying revision {revision} of service {service_id}."
    entries.append(_entry(service, _SYSTEM, when, "INFO", textPayload=text))
    logstore.append(state, entries)


def finished(
    state: LocalCloudState,
    kind: str,
    service: dict[str, Any],
    started: float,
    when: float,
    error: str | None,
) -> None:
    """What the rollout logs once its operation is done, spread over the time it took."""
    service_id = service["name"].rsplit("/", 1)[-1]
    if kind == "delete":
        text = (
            f"Service {service_id} deleted." if error is None else f"Deleting {service_id} failed."
        )
        logstore.append(state, [_entry(service, _SYSTEM, when, "INFO", textPayload=text)])
        return
    if error is not None:
        lines = [
            ("ERROR", f"Revision deployment failed: {error}"),
            (
                "ERROR",
                f"Ready condition status changed to False for Service {service_id} "
                f"with message: {error}",
            ),
        ]
        logstore.append(
            state, [_entry(service, _SYSTEM, when, sev, textPayload=text) for sev, text in lines]
        )
        return
    port = _port(service)
    container = (service.get("template", {}).get("containers") or [{}])[0].get("name") or "app"
    entries = [
        _entry(
            service,
            _SYSTEM,
            _between(started, when, 0.4),
            "INFO",
            textPayload=(
                "Starting new instance. Reason: DEPLOYMENT_ROLLOUT - Instance started due to traffic "
                "shifting between revisions due to deployment, traffic split adjustment, or "
                "deployment health check."
            ),
        ),
        _entry(
            service,
            _STDOUT,
            _between(started, when, 0.6),
            "DEFAULT",
            textPayload=f"Listening on port {port}",
        ),
        _entry(
            service,
            _SYSTEM,
            _between(started, when, 0.8),
            "INFO",
            textPayload=(
                f'Default STARTUP TCP probe succeeded after 1 attempt for container "{container}" '
                f"on port {port}."
            ),
        ),
        _entry(
            service,
            _SYSTEM,
            when,
            "INFO",
            textPayload=(f"Ready condition status changed to True for Service {service_id}."),
        ),
    ]
    if "uri" in service:
        entries.append(
            _entry(
                service,
                _REQUESTS,
                when,
                "INFO",
                httpRequest={
                    "requestMethod": "GET",
                    "requestUrl": f"{service['uri']}/",
                    "status": 200,
                    "responseSize": str(random.randint(200, 2000)),
                    "userAgent": "GoogleHC/1.0",
                    "remoteIp": "35.191.0.1",
                    "serverIp": "216.239.32.53",
                    "latency": f"{random.uniform(0.002, 0.05):.6f}s",
                    "protocol": "HTTP/1.1",
                },
            )
        )
    logstore.append(state, entries)


def _port(service: dict[str, Any]) -> int:
    for container in service.get("template", {}).get("containers", []):
        for port in container.get("ports", []):
            return int(port.get("containerPort", 8080))
    return 8080


def _between(start: float, end: float, fraction: float) -> float:
    return start + (end - start) * fraction
