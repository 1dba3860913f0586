"""Cloud Run service specs and results exchanged between the API, the service workflows and activities."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from contracts.limits import MAX_FIELD_JSON_BYTES, check_json_size

# Cloud Run's own rule for service ids; checked up front so a bad name never starts a job.
SERVICE_NAME_PATTERN = r"^[a-z](?:[a-z0-9-]{0,47}[a-z0-9])?$"
ENV_VAR_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SECRET_REF_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,255}(:(latest|[0-9]+))?$")
LABEL_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
LABEL_VALUE_PATTERN = re.compile(r"^[a-z0-9_-]{0,63}$")

# Bounds that keep a DeployServiceInput under ~400 KB (Temporal refuses payloads over 2 MB).
MAX_ENV_VARS = 200
MAX_LABELS = 64  # Google Cloud's own limit per resource
EnvName = Annotated[str, StringConstraints(max_length=255)]
EnvValue = Annotated[str, StringConstraints(max_length=32 * 1024)]
SecretRef = Annotated[str, StringConstraints(max_length=300)]
LabelText = Annotated[str, StringConstraints(max_length=63)]

ServiceName = Field(
    pattern=SERVICE_NAME_PATTERN,
    min_length=1,
    max_length=49,
    description="Cloud Run service name: lowercase letters, digits and hyphens; starts with a "
    "letter, does not end with a hyphen, at most 49 characters.",
)


class ServiceSpec(BaseModel):
    """Desired configuration of a Cloud Run service. Fields left unset keep their current values."""

    model_config = ConfigDict(extra="forbid")

    service_name: str = ServiceName
    image: str | None = Field(default=None, min_length=1, max_length=1024)
    port: int | None = Field(default=None, ge=1, le=65535)
    cpu: str | None = Field(default=None, pattern=r"^(\d+(\.\d+)?|\d+m)$", examples=["1"])
    memory: str | None = Field(default=None, pattern=r"^\d+(Mi|Gi)$", examples=["512Mi"])
    min_instances: int | None = Field(default=None, ge=0, le=1000)
    max_instances: int | None = Field(default=None, ge=1, le=1000)
    concurrency: int | None = Field(default=None, ge=1, le=1000)
    timeout_seconds: int | None = Field(default=None, ge=1, le=3600)
    env_vars: dict[EnvName, EnvValue] | None = Field(
        default=None,
        max_length=MAX_ENV_VARS,
        description=f"At most {MAX_ENV_VARS} variables, each value at most 32 KiB, all of them "
        f"together at most {MAX_FIELD_JSON_BYTES // 1024} KiB as JSON.",
    )
    secrets: dict[EnvName, SecretRef] | None = Field(
        default=None,
        max_length=MAX_ENV_VARS,
        description="Environment variable → Secret Manager secret name (optionally `name:version`). "
        "Only names travel; Cloud Run resolves the values.",
    )
    allow_public_access: bool | None = None
    service_account: str | None = Field(default=None, max_length=255)
    labels: dict[LabelText, LabelText] | None = Field(default=None, max_length=MAX_LABELS)

    @field_validator("env_vars")
    @classmethod
    def _env_names(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for key in value or {}:
            if not ENV_VAR_PATTERN.match(key):
                raise ValueError(f"invalid environment variable name: {key!r}")
        return check_json_size(value)

    @field_validator("secrets")
    @classmethod
    def _secret_refs(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for key, ref in (value or {}).items():
            if not ENV_VAR_PATTERN.match(key):
                raise ValueError(f"invalid environment variable name: {key!r}")
            if not SECRET_REF_PATTERN.match(ref):
                raise ValueError(f"invalid secret reference for {key}: expected name[:version]")
        return value

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for key, label in (value or {}).items():
            if not LABEL_KEY_PATTERN.match(key) or not LABEL_VALUE_PATTERN.match(label):
                raise ValueError(f"invalid label {key!r}: lowercase letters, digits, _ and -")
        return value

    @model_validator(mode="after")
    def _scaling(self) -> ServiceSpec:
        if (
            self.min_instances is not None
            and self.max_instances is not None
            and self.min_instances > self.max_instances
        ):
            raise ValueError("min_instances cannot exceed max_instances")
        return self


PLAN_HASH_PATTERN = r"^[0-9a-f]{64}$"


class DeployServiceInput(BaseModel):
    spec: ServiceSpec
    operation: Literal["deploy", "update"] = "deploy"
    region: str
    customer_prefix: str | None = None
    # Apply only if the live service still matches this plan (checked by the job under its turn).
    plan_hash: str | None = None


class PlanChange(BaseModel):
    """One field of a plan's diff. Secret references show `secret:version`, never a value."""

    field: str = Field(
        description="`image`, `port`, `cpu`, `memory`, `min_instances`, `max_instances`, "
        "`concurrency`, `timeout_seconds`, `service_account`, `env.<NAME>`, `secrets.<NAME>`, "
        "`labels.<key>` or `access.invokers`."
    )
    change: Literal["add", "update", "remove"]
    before: Any = None
    after: Any = None


class ServicePlan(BaseModel):
    """What a deploy or update would change, against what runs now."""

    service_name: str
    region: str
    action: Literal["create", "update"]
    changes: list[PlanChange] = Field(
        description="Field by field, Cloud Run configuration then access policy; empty: a no-op."
    )
    plan_hash: str = Field(
        description="Digest of the live state and of the result; apply with it to refuse a stale "
        "plan (the job fails with `stale plan` if the service changed in between)."
    )


class CheckPlanInput(BaseModel):
    spec: ServiceSpec
    region: str
    plan_hash: str


class CloudRunServiceResult(BaseModel):
    """What a Cloud Run step reports back: enough to register the service and answer the job."""

    service_name: str
    region: str
    uri: str | None = None
    latest_revision: str | None = None
    image: str | None = None
    created: bool = False
    # The service as it was before this job changed it (Service JSON), for compensation.
    previous_json: str | None = None
    # The service as this job left it (Service JSON, secret references by name only): what the
    # registry keeps as the last applied configuration, for the drift observer and reconcile.
    applied_json: str | None = None


class CloudRunCall(BaseModel):
    service_name: str
    region: str


class DeleteServiceInput(CloudRunCall):
    # Set by a compensation: delete only a service this job created (its job label says so).
    only_if_applied_by: str | None = None
    # Set by an offboarding: delete only a service carrying these labels (the tenant's mark).
    only_if_labelled: dict[str, str] | None = None


class ApplyServiceInput(BaseModel):
    spec: ServiceSpec
    region: str
    create: bool


class RestoreServiceInput(BaseModel):
    region: str
    service_json: str
    # Restore only while the service is as this job left it: another job's change is not undone.
    only_if_applied_by: str | None = None


class IamPolicyInput(BaseModel):
    service_name: str
    region: str
    public: bool


class ServiceRecordInput(BaseModel):
    service_name: str
    region: str
    url: str | None = None
    image: str | None = None
    customer_prefix: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    deployed_at: datetime
    # The service as the job left it (see CloudRunServiceResult.applied_json); None from older runs.
    applied_json: str | None = None
    # The invoker members the job set (its access step's answer); None when it left the access
    # policy as it was (an update without `allow_public_access`), or from older runs.
    invokers: list[str] | None = None


class UndeployServiceInput(BaseModel):
    service_name: str
    region: str
    customer_prefix: str | None = None


class RestoreInvokersInput(BaseModel):
    service_name: str
    region: str
    members: list[str]
    only_if_applied_by: str | None = None
