"""Service shapes of seed 000 §1: requests that start jobs and the read models built from Cloud Run."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.base import RequestModel
from contracts.provisioning.services import ServiceSpec

REGION_PATTERN = r"^[a-z]+-[a-z]+[0-9]$"

_EXAMPLE = {
    "service_name": "acme-crm",
    "image": "us-docker.pkg.dev/cloudrun/container/hello:latest",
    "port": 8080,
    "cpu": "1",
    "memory": "512Mi",
    "min_instances": 0,
    "max_instances": 3,
    "env_vars": {"LOG_LEVEL": "info"},
    "secrets": {"DATABASE_URL": "acme-crm-connection-string:latest"},
    "allow_public_access": False,
    "customer": "acme",
}


class ServiceDeployRequest(RequestModel, ServiceSpec):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    image: str = Field(min_length=1, max_length=1024)
    region: str | None = Field(default=None, pattern=REGION_PATTERN)
    customer: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9]{1,31}$")

    def spec(self) -> ServiceSpec:
        return ServiceSpec.model_validate(self.model_dump(exclude={"region", "customer"}))


class ServiceUpdateRequest(RequestModel, ServiceSpec):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"service_name": "acme-crm", "env_vars": {"LOG_LEVEL": "debug"}}]
        },
    )

    region: str | None = Field(default=None, pattern=REGION_PATTERN)

    def spec(self) -> ServiceSpec:
        return ServiceSpec.model_validate(self.model_dump(exclude={"region"}, exclude_unset=True))


class ServiceCategory(StrEnum):
    managed = "managed"
    external = "external"
    customer = "customer"


class ServiceSummary(BaseModel):
    name: str
    type: str
    status: str
    url: str | None = None
    region: str | None = None
    category: ServiceCategory
    customer: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class ServiceList(BaseModel):
    services: list[ServiceSummary]
    total: int
    limit: int
    offset: int


class ServiceInfo(ServiceSummary):
    latest_revision: str | None = None


class TrafficTarget(BaseModel):
    revision: str | None = None
    percent: int
    latest: bool


class ServiceDetails(ServiceInfo):
    image: str | None = None
    port: int | None = None
    cpu: str | None = None
    memory: str | None = None
    container_concurrency: int | None = None
    timeout_seconds: int | None = None
    min_instances: int | None = None
    max_instances: int | None = None
    traffic: list[TrafficTarget] = Field(default_factory=list)
    env_vars: dict[str, str] = Field(default_factory=dict)
    secret_env_vars: dict[str, str] = Field(
        default_factory=dict, description="Environment variable → `secret:version` (names only)."
    )
    service_account: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    raw: dict[str, Any]


class LogEntry(BaseModel):
    timestamp: datetime | None
    severity: str
    message: str
    resource: dict[str, Any]


class ServiceLogs(BaseModel):
    service_name: str
    total: int
    logs: list[LogEntry]


class ReadyCondition(BaseModel):
    status: str
    reason: str | None = None
    message: str | None = None
    last_transition: datetime | None = None


class InstanceCounts(BaseModel):
    active: int | None = Field(
        default=None,
        description="Cloud Run's Admin API does not report live instances; null unless known.",
    )
    min: int
    max: int | None


class ServiceStatus(BaseModel):
    name: str
    status: str
    health: str
    ready: ReadyCondition
    reconciling: bool
    latest_revision: str | None
    latest_created_revision: str | None
    instances: InstanceCounts
    last_deployment: datetime | None
    uptime_seconds: float | None
    url: str | None
