"""Customers (seed 000 §3): create, update, the record with its per-provisioning status, the portal
and the customer's services."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.schemas.base import RequestModel
from api.schemas.fields import DisplayName
from api.schemas.jobs import JobResponse
from api.schemas.types import UtcDateTime
from contracts.provisioning.customers import PREFIX_PATTERN
from providers.google.secret_manager import SECRET_NAME_PATTERN

# A pragmatic address check (one @, a dotted domain, no spaces); the mailbox is the customer's.
EMAIL_PATTERN = r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
Email = Annotated[str, StringConstraints(pattern=EMAIL_PATTERN, max_length=254)]
Name = DisplayName
# The reference fields of §3.7: each the shape of what it names in its outside system, so a value
# that could not be such a name (a path, a script, a non-https URL) is a 400 before anything reads it.
SecretRef = Annotated[str, StringConstraints(pattern=SECRET_NAME_PATTERN, max_length=255)]
JiraKey = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9]{1,9}$")]
JiraId = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,18}$")]
LiteLLMUserId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9:._@-]{0,127}$")]
ServiceName = Annotated[str, StringConstraints(pattern=r"^[a-z](?:[a-z0-9-]{0,47}[a-z0-9])?$")]
HttpsUrl = Annotated[
    str,
    StringConstraints(
        pattern=r"^https://[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~%/-]*)?$",
        max_length=512,
    ),
]


class CustomerCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "prefix": "acme",
                    "name": "Acme Corp",
                    "email": "admin@acme.example",
                    "create_jira_portal": True,
                    "create_litellm": True,
                    "create_zenml": True,
                }
            ]
        }
    )

    prefix: str = Field(
        pattern=PREFIX_PATTERN,
        min_length=2,
        max_length=20,
        description="Unique: 2-20 lowercase letters, digits and hyphens, a letter first, no "
        "hyphen last (it starts the customer's service and secret names).",
        examples=["acme"],
    )
    name: Name = Field(examples=["Acme Corp"])
    email: Email = Field(examples=["admin@acme.example"])
    create_jira_portal: bool = False
    create_litellm: bool = False
    create_zenml: bool = False
    zenml_organization_id: str | None = Field(default=None, min_length=1, max_length=128)


class CustomerUpdate(RequestModel):
    """Only the fields sent change (§3.7); `null` clears an id, never the name."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "Acme Corporation", "jira_sd_id": "12"}]}
    )

    name: Name | None = None
    email: Email | None = None
    jira_project_key: JiraKey | None = None
    jira_project_id: JiraId | None = None
    jira_sd_id: JiraId | None = None
    jira_group_id: JiraId | None = None
    litellm_user_id: LiteLLMUserId | None = Field(
        default=None, description="An existing LiteLLM user."
    )
    litellm_api_key_secret: SecretRef | None = Field(
        default=None, description="An existing secret; naming one needs the `secrets` scope."
    )
    zenml_workspace_id: ServiceName | None = Field(
        default=None, description="An existing Cloud Run service."
    )
    zenml_workspace_url: HttpsUrl | None = Field(default=None, description="An https URL.")
    zenml_credentials_secret: SecretRef | None = Field(
        default=None, description="An existing secret; naming one needs the `secrets` scope."
    )


class ProvisioningStatus(BaseModel):
    status: str = Field(description="pending, ready or failed", examples=["ready"])
    reason: str | None = None


class Provisionings(BaseModel):
    """One entry per provisioning asked for at creation (null: not asked for)."""

    jira: ProvisioningStatus | None = None
    litellm: ProvisioningStatus | None = None
    zenml: ProvisioningStatus | None = None


class CustomerResponse(BaseModel):
    id: uuid.UUID
    prefix: str
    name: str
    email: str | None = None
    active: bool
    jira_project_key: str | None = None
    jira_project_id: str | None = None
    jira_sd_id: str | None = None
    jira_group_id: str | None = None
    litellm_user_id: str | None = None
    litellm_api_key_secret: str | None = Field(
        default=None, description="The name of the secret holding the LiteLLM key, never the key."
    )
    zenml_workspace_id: str | None = None
    zenml_workspace_url: str | None = None
    zenml_credentials_secret: str | None = None
    provisioning: Provisionings
    onboarding_job_id: str | None = None
    created_at: UtcDateTime
    updated_at: UtcDateTime


class ProvisioningJob(BaseModel):
    """One provisioning's child job of the onboarding: its id is known at the start (the
    onboarding's job id + `-<branch>`), so it is followed like any job once the branch starts."""

    job_id: str = Field(examples=["onboard_customer-3f2a9c1d8e7b-litellm"])
    operation: str = Field(examples=["litellm_provision"])
    job_url: str = Field(description="`GET` it for the branch job's status, progress and logs.")
    logs_url: str
    temporal_ui_url: str


class ProvisioningJobs(BaseModel):
    """The job of each provisioning asked for (null: not asked for)."""

    jira: ProvisioningJob | None = None
    litellm: ProvisioningJob | None = None
    zenml: ProvisioningJob | None = None


class CustomerCreated(CustomerResponse):
    job_id: str = Field(description="The OnboardCustomer job; each provisioning is its child job.")
    job: JobResponse
    provisioning_jobs: ProvisioningJobs = Field(
        description="Each requested provisioning's own job (a child of `job_id`), followed like "
        "any job: `GET /api/v1/jobs/{job_id}`. It exists once the onboarding has its turn on the "
        "customer (a 404 before that)."
    )


class CustomerPortal(BaseModel):
    customer_id: uuid.UUID
    jira_project_key: str | None = None
    jira_sd_id: str
    portal_url: str


class CustomerService(BaseModel):
    name: str
    type: str
    category: str
    region: str
    url: str | None = None
    image: str | None = None
    status: str
    labels: dict[str, Any] = Field(default_factory=dict)
    deployed_at: UtcDateTime | None = None


class CustomerServices(BaseModel):
    customer_id: uuid.UUID
    services: list[CustomerService]
