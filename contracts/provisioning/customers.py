"""What crosses the Temporal boundary for customers (seed 000 §3): onboarding, its three provisioning
branches, offboarding. Names of what a customer owns outside the platform all derive from its prefix
(`CustomerNames`), so a compensation or an offboarding finds them even when the record never got
their ids. Only secret *names* travel; values are generated and read inside activities."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

# Lowercase DNS label, 2–20 characters, starting with a letter (it starts Cloud Run service names).
PREFIX_PATTERN = r"^[a-z](?:[a-z0-9-]{0,18}[a-z0-9])$"
# Label on everything a job writes (secrets, LiteLLM metadata): compensation removes only its own.
JOB_LABEL = "job-id"
# Label naming the customer on its secrets: offboarding deletes every secret carrying it.
CUSTOMER_SECRET_LABEL = "customer"
# What the secrets API reads a secret's scope from (`?scope=customer`, `scope` in its answers): the
# secrets onboarding writes are the customer's too.
SECRET_SCOPE_LABEL = "scope"
CUSTOMER_SECRET_SCOPE = "customer"
# Label naming the customer on the Cloud Run services made for it (its ZenML server).
CUSTOMER_SERVICE_LABEL = "conneskills-customer"
Branch = Literal["jira", "litellm", "zenml"]
BranchStatus = Literal["pending", "ready", "failed"]


class CustomerNames:
    """Where each of the customer's outside objects lives, by rule from its prefix."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    @property
    def jira_project_key(self) -> str:
        # Jira: uppercase letters and digits, starting with a letter, at most 10 characters.
        return re.sub(r"[^A-Z0-9]", "", self.prefix.upper())[:10]

    @property
    def jira_organization(self) -> str:
        return f"{self.prefix} customers"

    @property
    def litellm_user_id(self) -> str:
        # A colon never occurs in an agent's `{prefix}-{agent}` alias, so the two never collide.
        return f"customer:{self.prefix}"

    @property
    def litellm_key_alias(self) -> str:
        return f"customer:{self.prefix}"

    @property
    def litellm_key_secret(self) -> str:
        return f"{self.prefix}-litellm-api-key"

    @property
    def zenml_service(self) -> str:
        return f"{self.prefix}-zenml"

    @property
    def zenml_database(self) -> str:
        # ZenML refuses `-` in a database name; the user is named like its database.
        return "zenml_" + self.prefix.replace("-", "_")

    @property
    def zenml_service_account(self) -> str:
        """The id of the account the ZenML server runs as. IAM wants 6-30 characters matching
        `[a-z]([-a-z0-9]*[a-z0-9])`; a prefix (2-20 characters, a letter first, no trailing dash)
        makes `zenml-{prefix}` 8-26 characters of that shape, so no padding or cutting is needed."""
        return f"zenml-{self.prefix}"

    def zenml_service_account_email(self, project: str) -> str:
        return f"{self.zenml_service_account}@{project}.iam.gserviceaccount.com"

    @property
    def zenml_store_url_secret(self) -> str:
        return f"{self.prefix}-zenml-store-url"

    @property
    def zenml_admin_password_secret(self) -> str:
        return f"{self.prefix}-zenml-admin-password"

    @property
    def zenml_jwt_secret(self) -> str:
        return f"{self.prefix}-zenml-jwt-secret"

    @property
    def zenml_encryption_key_secret(self) -> str:
        return f"{self.prefix}-zenml-encryption-key"

    @property
    def zenml_secrets(self) -> list[str]:
        return [
            self.zenml_store_url_secret,
            self.zenml_admin_password_secret,
            self.zenml_jwt_secret,
            self.zenml_encryption_key_secret,
        ]


def branch_job_id(onboarding_job_id: str, branch: str) -> str:
    """The job id of one provisioning of an onboarding: known when the onboarding is started, so
    the API names every branch's job in its answer before the branches exist."""
    return f"{onboarding_job_id}-{branch}"


class OnboardCustomerInput(BaseModel):
    customer_id: str
    prefix: str = Field(pattern=PREFIX_PATTERN)
    name: str = Field(max_length=255)
    email: str = Field(max_length=255)
    jira: bool = False
    litellm: bool = False
    zenml: bool = False
    zenml_organization_id: str | None = Field(default=None, max_length=128)
    zenml_image: str = Field(max_length=1024)
    region: str


class BranchInput(BaseModel):
    """The input of one provisioning child: who the customer is and what it asked for."""

    customer_id: str
    prefix: str = Field(pattern=PREFIX_PATTERN)
    name: str = Field(max_length=255)
    email: str = Field(max_length=255)
    region: str
    zenml_organization_id: str | None = None
    zenml_image: str = ""


class BranchOutcome(BaseModel):
    """Written to the customer record by the onboarding job: a branch's status and its ids."""

    customer_id: str
    branch: Branch
    status: BranchStatus
    reason: str | None = None
    fields: dict[str, str | None] = Field(default_factory=dict)


class OwnedRecord(BaseModel):
    customer_id: str
    # Unset: whichever job owns it (offboarding removes the record as it finds it).
    job_id: str | None = None


class OwnedStep(BaseModel):
    """A step on the customer's outside objects. `owner_job` set: touch only what that job made
    (a compensation); unset: only what carries the customer's own mark (an offboarding), so a
    name that happens to match, or that a record was made to name, is left alone."""

    prefix: str
    owner_job: str | None = None


class JiraProjectInput(BaseModel):
    prefix: str
    name: str
    job_id: str


class JiraProject(BaseModel):
    project_key: str
    project_id: str
    sd_id: str


class JiraServiceDeskInput(BaseModel):
    prefix: str
    sd_id: str


class JiraRemoveInput(OwnedStep):
    # From the record when offboarding (a PUT may have changed them); by rule otherwise.
    organization_id: str | None = None
    project_key: str | None = None
    # The customer's onboarding job: projects made before their mark named the customer carry
    # only the mark of that job's Jira branch.
    onboarding_job: str | None = None


class LiteLLMRemoveInput(OwnedStep):
    # The record's user when offboarding (a PUT may have set another); by rule otherwise.
    user_id: str | None = None


class LiteLLMUserInput(BaseModel):
    prefix: str
    # What the job was started with; with `customer_id` the step uses the record's name and email
    # as they are when it runs (a PUT since, then a retry of the step or a fresh retry of the job).
    name: str
    email: str
    job_id: str
    customer_id: str | None = None


class JobSecretsInput(BaseModel):
    prefix: str
    job_id: str


class OffboardCustomerInput(BaseModel):
    customer_id: str
    prefix: str
    region: str


class CustomerView(BaseModel):
    """What offboarding reads of the record: the ids onboarding stored (names by rule otherwise)."""

    customer_id: str
    prefix: str
    jira_project_key: str | None = None
    jira_group_id: str | None = None
    litellm_user_id: str | None = None
    litellm_api_key_secret: str | None = None
    zenml_workspace_id: str | None = None
    zenml_credentials_secret: str | None = None
    onboarding_job_id: str | None = None
    # What the record names that does not carry the customer's mark: unlinked and reported by
    # offboarding, never deleted (the fields above are then left unset).
    not_owned: list[str] = Field(default_factory=list)


class AgentService(BaseModel):
    service_name: str
    region: str
    agent_name: str | None = None


class CustomerSecretsInput(BaseModel):
    prefix: str
    extra_names: list[str] = Field(default_factory=list)
