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

# A pragmatic address check (one @, a dotted domain, no spaces); the mailbox is the customer's.
EMAIL_PATTERN = r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
Email = Annotated[str, StringConstraints(pattern=EMAIL_PATTERN, max_length=254)]
Name = DisplayName
Ref = Annotated[str, StringConstraints(min_length=1, max_length=255)]


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
    jira_project_key: Annotated[str, StringConstraints(max_length=32)] | None = None
    jira_project_id: Annotated[str, StringConstraints(max_length=64)] | None = None
    jira_sd_id: Annotated[str, StringConstraints(max_length=64)] | None = None
    jira_group_id: Annotated[str, StringConstraints(max_length=128)] | None = None
    litellm_user_id: Annotated[str, StringConstraints(max_length=128)] | None = None
    litellm_api_key_secret: Ref | None = None
    zenml_workspace_id: Annotated[str, StringConstraints(max_length=128)] | None = None
    zenml_workspace_url: Annotated[str, StringConstraints(max_length=512)] | None = None
    zenml_credentials_secret: Ref | None = None


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


class CustomerCreated(CustomerResponse):
    job_id: str = Field(description="The OnboardCustomer job; each provisioning is its child job.")
    job: JobResponse


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
