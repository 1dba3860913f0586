"""Service shapes of seed 000 §1: requests that start jobs and the read models built from Cloud Run."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from api.schemas.base import RequestModel
from api.schemas.conditions import DriftField, ResourceCondition
from api.schemas.fields import ImageRef, ServiceAccountEmail
from api.schemas.types import UtcDateTime
from contracts.provisioning.customers import PREFIX_PATTERN
from contracts.provisioning.services import PLAN_HASH_PATTERN, ServiceSpec
from contracts.provisioning.services import ServicePlan as PlanContract
from providers.google import cloud_run_rules as cloud_run
from providers.google.cloud_run_spec import RESERVED_LABELS

REGION_PATTERN = r"^[a-z]+-[a-z]+[0-9]$"

# Works as written on a fresh install (no customer or secret that would have to exist first).
_EXAMPLE = {
    "service_name": "hello",
    "image": "us-docker.pkg.dev/cloudrun/container/hello:latest",
    "port": 8080,
    "cpu": "1",
    "memory": "512Mi",
    "min_instances": 0,
    "max_instances": 3,
    "env_vars": {"LOG_LEVEL": "info"},
    "allow_public_access": False,
}


def _optional(check):
    def validate(value: str | None) -> str | None:
        return None if value is None else check(value)

    return validate


class _CloudRunRequest(RequestModel, ServiceSpec):
    """Cloud Run's own rules on the request, so a value it would refuse is a 400 naming the field
    and never a job (`providers/google/cloud_run_rules.py`). Only the API's bodies check them: specs
    already in running jobs' histories must keep deserialising."""

    region: str | None = Field(
        default=None,
        pattern=REGION_PATTERN,
        description="A Cloud Run region; default from settings.",
    )
    image: ImageRef | None = None
    service_account: ServiceAccountEmail | None = None
    plan_hash: str | None = Field(
        default=None,
        pattern=PLAN_HASH_PATTERN,
        description="Apply only if the service still matches this plan (`plan_hash` of a dry run); "
        "the job fails with `stale plan` otherwise and changes nothing.",
    )

    check_image = field_validator("image")(_optional(cloud_run.check_image))
    check_cpu = field_validator("cpu")(_optional(cloud_run.check_cpu))
    check_account = field_validator("service_account")(_optional(cloud_run.check_service_account))
    check_region = field_validator("region")(_optional(cloud_run.check_region))

    @field_validator("labels")
    @classmethod
    def _own_labels(cls, labels: dict[str, str] | None) -> dict[str, str] | None:
        reserved = sorted(set(labels or {}) & RESERVED_LABELS)
        if reserved:
            raise ValueError(f"label {reserved[0]!r} is set by the platform and cannot be given")
        return labels

    @field_validator("memory")
    @classmethod
    def _memory(cls, memory: str | None, info: ValidationInfo) -> str | None:
        # `cpu` is declared before `memory`, so it is already checked here when it was given.
        if memory is not None:
            cloud_run.check_memory(memory)
            if info.data.get("cpu") is not None:
                cloud_run.check_cpu_and_memory(info.data["cpu"], memory)
        return memory

    @model_validator(mode="after")
    def _fractional_cpu(self):
        if self.cpu is not None:
            try:
                cloud_run.check_fractional_cpu(self.cpu, self.memory, self.concurrency)
            except cloud_run.CloudRunRuleError as error:
                # A model-level error: say which fields it is about in the message itself.
                raise ValueError(f"cpu/concurrency/memory: {error}") from None
        return self


class ServiceDeployRequest(_CloudRunRequest):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    image: ImageRef
    customer: str | None = Field(default=None, pattern=PREFIX_PATTERN)

    def spec(self) -> ServiceSpec:
        return ServiceSpec.model_validate(
            self.model_dump(exclude={"region", "customer", "plan_hash"})
        )


class ServiceUpdateRequest(_CloudRunRequest):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"service_name": "acme-crm", "env_vars": {"LOG_LEVEL": "debug"}}]
        },
    )

    def spec(self) -> ServiceSpec:
        return ServiceSpec.model_validate(
            self.model_dump(exclude={"region", "plan_hash"}, exclude_unset=True)
        )


class ServicePlan(PlanContract):
    """The answer of a dry run (`?dry_run=true`): the plan, nothing started."""


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
    created_at: UtcDateTime | None = None
    updated_at: UtcDateTime | None = None
    conditions: list[ResourceCondition] = Field(
        default_factory=list,
        description="As the drift observer last saw the service; empty until it has (or for a "
        "service the platform did not deploy).",
    )
    drift: list[DriftField] = Field(
        default_factory=list, description="Fields changed outside the platform; empty: in sync."
    )
    observed_at: UtcDateTime | None = Field(
        default=None, description="When the drift observer last looked at the service."
    )


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
    timestamp: UtcDateTime | None
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
    last_transition: UtcDateTime | None = None


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
    last_deployment: UtcDateTime | None
    uptime_seconds: float | None
    url: str | None
