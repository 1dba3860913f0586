"""Cloud Logging v2 through the official `google-cloud-logging` client: a Cloud Run service's log
entries, newest first. Blocking: callers run it in a thread."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from google.cloud import logging as cloud_logging

from core.settings import Settings
from providers.google.clients import cloud_logging_client


@dataclass(frozen=True)
class LogLine:
    timestamp: datetime | None
    severity: str
    message: str
    resource: dict[str, Any] = field(default_factory=dict)


def service_log_filter(service_name: str, region: str) -> str:
    return (
        'resource.type="cloud_run_revision" AND '
        f'resource.labels.service_name="{service_name}" AND '
        f'resource.labels.location="{region}"'
    )


def _line(entry) -> LogLine:
    payload = entry.payload
    if isinstance(payload, dict):
        message = payload.get("message") or str(payload)
    else:
        message = "" if payload is None else str(payload)
    resource = (
        {"type": entry.resource.type, "labels": dict(entry.resource.labels or {})}
        if entry.resource
        else {}
    )
    return LogLine(
        timestamp=entry.timestamp,
        severity=entry.severity or "DEFAULT",
        message=message,
        resource=resource,
    )


def service_logs(settings: Settings, service_name: str, region: str, limit: int) -> list[LogLine]:
    entries = cloud_logging_client(settings).list_entries(
        resource_names=[f"projects/{settings.gcp_project}"],
        filter_=service_log_filter(service_name, region),
        order_by=cloud_logging.DESCENDING,
        max_results=limit,
        page_size=limit,
    )
    return [_line(entry) for entry in entries]
