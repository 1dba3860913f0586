"""The assistant's tools, table-driven: each is a few lines naming its parameter model, whose JSON
schema is what the LLM sees (`GET /api/tools` shows the same) and which validates a call before
anything runs.

Platform tools read (or change) the platform through its own API route: the parameter model is
the route's own request model where it has one (deploy, update, retry), so the tool and the route
share one definition; a tool answers exactly what the route answers, with its checks, and a
mutating tool starts the same job the route starts (same lock, hold, compensation). Cloud tools
(`provider` set) call the cloud's API through `providers/` and are offered only while that provider
is enabled in the assistant's configuration (`cloud_providers`)."""

from __future__ import annotations

import functools
import json
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.hosting.users import USERID_PATTERN
from api.schemas.jobs import JobStatus, RetryRequest
from api.schemas.provisioning.secrets import CUSTOMER_PATTERN, SERVICE_PATTERN
from api.schemas.provisioning.services import (
    REGION_PATTERN,
    ServiceCategory,
    ServiceDeployRequest,
    ServiceUpdateRequest,
)
from contracts.job_operations import JOB_OPERATIONS
from contracts.provisioning.services import SERVICE_NAME_PATTERN

_JOB_ID = r"^[A-Za-z0-9_.:-]{1,200}$"


class ToolParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ListParams(ToolParams):
    limit: int = Field(default=20, ge=1, le=100, description="How many at most.")


class ListServicesParams(ListParams):
    category: ServiceCategory | None = Field(
        default=None, description="Only this category of service."
    )
    status: str | None = Field(default=None, max_length=32, description="Only services in it.")


class ServiceParams(ToolParams):
    service_name: str = Field(pattern=SERVICE_NAME_PATTERN, description="The service's name.")
    region: str | None = Field(default=None, pattern=REGION_PATTERN, description="Its region.")


class ListJobsParams(ListParams):
    service_name: str | None = Field(
        default=None, pattern=r"^[a-z0-9-]{1,63}$", description="Only this service's jobs."
    )
    operation: Literal[tuple(sorted(JOB_OPERATIONS))] | None = Field(  # type: ignore[valid-type]
        default=None, description="Only jobs of this operation."
    )
    status: JobStatus | None = Field(default=None, description="Only jobs in this status.")


class GetJobParams(ToolParams):
    job_id: str = Field(pattern=_JOB_ID, description="The job's id.")


class CancelJobParams(ToolParams):
    job_id: str = Field(pattern=_JOB_ID, description="The job to cancel.")


class JobLogsParams(ToolParams):
    job_id: str = Field(pattern=_JOB_ID, description="The job whose log to read.")


class RetryJobParams(RetryRequest):
    """The route's own body (`fresh`, `comment`) plus the job in its path."""

    job_id: str = Field(pattern=_JOB_ID, description="The held job to retry.")


class CustomerParams(ToolParams):
    customer_id: uuid.UUID = Field(description="The customer's id (a UUID).")


class ListCustomersParams(ToolParams):
    active_only: bool = Field(default=False, description="Only active customers.")


class AgentParams(ToolParams):
    service_name: str = Field(pattern=SERVICE_NAME_PATTERN, description="The agent's service.")


class ListSecretsParams(ListParams):
    customer: str | None = Field(default=None, pattern=CUSTOMER_PATTERN, description="Customer.")
    service: str | None = Field(default=None, pattern=SERVICE_PATTERN, description="Service.")


class ExternalServiceParams(ToolParams):
    service_id: uuid.UUID = Field(description="The external service's id (a UUID).")


class RunnerParams(ToolParams):
    runner_id: str = Field(max_length=200, description="The runner's id (its job id).")


class HostingUserParams(ToolParams):
    userid: str = Field(pattern=USERID_PATTERN, description="The hosting user's id.")


class DockerServiceParams(ToolParams):
    service_id: int = Field(ge=1, le=2**31 - 1, description="The Docker service's id.")


class VmParams(ToolParams):
    vm_id: int = Field(ge=100, le=999_999_999, description="The VM's Proxmox VMID.")


class AccountParams(ToolParams):
    account_id: uuid.UUID = Field(description="The CRM account's id (a UUID).")


class LeadParams(ToolParams):
    lead_id: uuid.UUID = Field(description="The lead's id (a UUID).")


class Ec2ListParams(ToolParams):
    region: str | None = Field(
        default=None,
        pattern=r"^[a-z]{2}(-[a-z]+)+-\d$",
        description="The AWS region (the configured one when omitted).",
    )
    state: Literal["pending", "running", "stopping", "stopped", "terminated"] | None = Field(
        default=None, description="Only instances in this state."
    )


class Ec2InstanceParams(ToolParams):
    instance_id: str = Field(pattern=r"^i-[0-9a-f]{8,17}$", description="The instance's id.")
    region: str | None = Field(
        default=None, pattern=r"^[a-z]{2}(-[a-z]+)+-\d$", description="Its AWS region."
    )


class NoParams(ToolParams):
    pass


class CloudRunListParams(ToolParams):
    region: str | None = Field(
        default=None, pattern=REGION_PATTERN, description="The region (the platform's default)."
    )


@functools.cache
def _schema_text(params: type[BaseModel]) -> str:
    return json.dumps(params.model_json_schema())


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    category: str
    params: type[BaseModel]
    # The platform API route it calls: a path template filled from the parameters named in it;
    # the other parameters go in the query (GET) or the JSON body.
    path: str | None = None
    method: str = "GET"
    # A tool that changes things runs only as the autonomy level allows (refused under
    # `read_only`, after the user's approval under `semi`).
    mutating: bool = False
    # A cloud tool: the provider that must be enabled (`cloud_providers`); no route.
    provider: str | None = None
    # Path parameters the route's body repeats (PUT /services/{service_name} checks they agree).
    keep_in_body: tuple[str, ...] = ()
    # When set, only these fields of each object answered reach the model (secrets: names only).
    fields: tuple[str, ...] = ()

    def schema(self) -> dict[str, Any]:
        """The parameter model's JSON schema, a fresh copy: generated once per model (pydantic
        builds it anew on every call, 20-200 ms for the whole table on a loaded machine, which
        every turn's first workflow task paid)."""
        return json.loads(_schema_text(self.params))

    def validate(self, arguments: dict[str, Any]) -> BaseModel:
        """The arguments checked by the parameter model (JSON mode: the API's strict request
        models take what JSON carries, as their routes do); ValidationError when refused."""
        return self.params.model_validate_json(json.dumps(arguments))

    def request(self, params: BaseModel) -> tuple[str, dict[str, Any]]:
        # Only what the caller gave: an update's unset fields stay unset, as in the route.
        values = params.model_dump(mode="json", exclude_none=True, exclude_unset=True)
        assert self.path is not None
        path = self.path
        for name in list(values):
            if "{" + name + "}" in path:
                value = values[name] if name in self.keep_in_body else values.pop(name)
                path = path.replace("{" + name + "}", str(value))
        return path, values

    def shown(self, answer: Any) -> Any:
        """The answer as the model sees it: `fields` kept of each object, when set."""
        if not self.fields:
            return answer
        if isinstance(answer, list):
            return [self.shown(item) for item in answer]
        if isinstance(answer, dict):
            if all(name in answer for name in self.fields[:1]):
                return {k: v for k, v in answer.items() if k in self.fields}
            return {k: self.shown(v) for k, v in answer.items()}
        return answer


def _route(name, description, category, params, path, method="GET", **more) -> Tool:
    return Tool(name, description, category, params, path, method, **more)


def _changes(name, description, category, params, path, method="POST", **more) -> Tool:
    described = f"{description} Changes things: may need the user's approval."
    return Tool(name, described, category, params, path, method, mutating=True, **more)


def _cloud(name, description, provider, params, mutating=False) -> Tool:
    if mutating:
        description = f"{description} Changes things: may need the user's approval."
    return Tool(name, description, provider, params, provider=provider, mutating=mutating)


_S = "/api/v1/services"
_J = "/api/v1/jobs"
_TOOLS = (
    # Services (Cloud Run).
    _route(
        "list_services",
        "List the platform's services (Cloud Run services, external services) with their "
        "status and URL.",
        "platform",
        ListServicesParams,
        _S,
    ),
    _route(
        "get_service",
        "Get one Cloud Run service: its image, URL, status.",
        "platform",
        ServiceParams,
        f"{_S}/{{service_name}}",
    ),
    _route(
        "get_service_status",
        "A Cloud Run service's readiness, instances and revisions.",
        "platform",
        ServiceParams,
        f"{_S}/{{service_name}}/status",
    ),
    _route(
        "get_service_logs",
        "A Cloud Run service's latest log lines.",
        "platform",
        ServiceParams,
        f"{_S}/{{service_name}}/logs",
    ),
    _changes(
        "deploy_service",
        "Deploy a new Cloud Run service (a deploy job), as POST /api/v1/services/deploy does.",
        "platform",
        ServiceDeployRequest,
        f"{_S}/deploy",
    ),
    _changes(
        "update_service",
        "Update a Cloud Run service (image, env vars, resources) as "
        "PUT /api/v1/services/{service_name} does (a deploy job).",
        "platform",
        ServiceUpdateRequest,
        f"{_S}/{{service_name}}",
        "PUT",
        keep_in_body=("service_name",),
    ),
    _changes(
        "undeploy_service",
        "Delete a Cloud Run service (an undeploy job), as "
        "DELETE /api/v1/services/{service_name} does.",
        "platform",
        ServiceParams,
        f"{_S}/{{service_name}}",
        "DELETE",
    ),
    # Jobs.
    _route(
        "list_jobs",
        "List the platform's jobs (deploys, builds, onboardings...), newest first, with "
        "their status and progress.",
        "platform",
        ListJobsParams,
        _J,
    ),
    _route(
        "get_job",
        "Get one job by its id: its status, progress, current phase, logs link and result.",
        "platform",
        GetJobParams,
        f"{_J}/{{job_id}}",
    ),
    _route(
        "get_job_logs",
        "Read a job's log lines by its id.",
        "platform",
        JobLogsParams,
        f"{_J}/{{job_id}}/logs",
    ),
    _changes(
        "cancel_job",
        "Cancel a running job by its id (graceful: what it did is undone), "
        "as POST /api/v1/jobs/{job_id}/cancel does.",
        "platform",
        CancelJobParams,
        f"{_J}/{{job_id}}/cancel",
    ),
    _changes(
        "retry_job",
        "Retry a job held after a failure, as POST /api/v1/jobs/{job_id}/retry does.",
        "platform",
        RetryJobParams,
        f"{_J}/{{job_id}}/retry",
    ),
    # Customers and agents.
    _route(
        "list_customers",
        "List the platform's customers.",
        "platform",
        ListCustomersParams,
        "/api/v1/customers",
    ),
    _route(
        "get_customer",
        "Get one customer by id.",
        "platform",
        CustomerParams,
        "/api/v1/customers/{customer_id}",
    ),
    _route(
        "get_customer_services",
        "The services (Cloud Run, agents, databases) one customer has.",
        "platform",
        CustomerParams,
        "/api/v1/customers/{customer_id}/services",
    ),
    _route(
        "get_agent",
        "Get one AI agent (a service) by its name.",
        "platform",
        AgentParams,
        "/api/v1/agents/{service_name}",
    ),
    # Secrets: names and labels only; their values never reach the model.
    _route(
        "list_secrets",
        "List the names of the platform's secrets (never their values).",
        "platform",
        ListSecretsParams,
        "/api/v1/secrets",
        fields=("name", "scope", "created_at", "updated_at"),
    ),
    # External services.
    _route(
        "list_external_services",
        "List the external services (databases, APIs) the platform knows.",
        "platform",
        ListParams,
        "/api/v1/external-services",
    ),
    _route(
        "get_external_service",
        "Get one external service by id: its type, URL and last health check.",
        "platform",
        ExternalServiceParams,
        "/api/v1/external-services/{service_id}",
    ),
    _route(
        "check_external_service_health",
        "Check an external service's health now.",
        "platform",
        ExternalServiceParams,
        "/api/v1/external-services/{service_id}/health",
        "POST",
    ),
    # Runners.
    _route(
        "list_runners",
        "List the GitHub self-hosted runners.",
        "runners",
        ListParams,
        "/api/v1/runners",
    ),
    _route(
        "get_runner",
        "Get one runner by its id.",
        "runners",
        RunnerParams,
        "/api/v1/runners/{runner_id}",
    ),
    # Hosting: Docker services and VMs (a user's list them).
    _route(
        "get_hosting_user",
        "A hosting user with their Docker services and VMs.",
        "hosting",
        HostingUserParams,
        "/users/{userid}",
    ),
    _route(
        "get_docker_service",
        "Get one Docker service by id.",
        "hosting",
        DockerServiceParams,
        "/service/{service_id}",
    ),
    _route("get_vm", "Get one VM by its VMID.", "hosting", VmParams, "/vm/{vm_id}"),
    # CRM.
    _route(
        "list_crm_accounts", "List the CRM accounts.", "crm", ListParams, "/api/v1/admin/accounts"
    ),
    _route(
        "get_crm_account",
        "Get one CRM account by id.",
        "crm",
        AccountParams,
        "/api/v1/admin/accounts/{account_id}",
    ),
    _route(
        "list_crm_leads",
        "List a CRM account's leads.",
        "crm",
        AccountParams,
        "/api/v1/admin/accounts/{account_id}/leads",
    ),
    _route(
        "get_crm_lead",
        "Get one CRM lead by id.",
        "crm",
        LeadParams,
        "/api/v1/admin/leads/{lead_id}",
    ),
    # AWS (boto3; the local cloud's moto server).
    _cloud(
        "list_ec2_instances",
        "List the AWS EC2 instances (virtual machines) with their state, type and name.",
        "aws",
        Ec2ListParams,
    ),
    _cloud(
        "describe_ec2_instance",
        "Describe one AWS EC2 instance by its id.",
        "aws",
        Ec2InstanceParams,
    ),
    _cloud(
        "start_ec2_instance",
        "Start a stopped AWS EC2 instance.",
        "aws",
        Ec2InstanceParams,
        mutating=True,
    ),
    _cloud(
        "stop_ec2_instance",
        "Stop a running AWS EC2 instance.",
        "aws",
        Ec2InstanceParams,
        mutating=True,
    ),
    _cloud("list_aws_regions", "List the AWS regions.", "aws", NoParams),
    # GCP (the Google clients the platform uses).
    _cloud(
        "list_cloud_run_services",
        "List the GCP Cloud Run services of the platform's project.",
        "gcp",
        CloudRunListParams,
    ),
)

TOOLS: dict[str, Tool] = {tool.name: tool for tool in _TOOLS}


def offered(enabled: list[str] | tuple[str, ...]) -> list[Tool]:
    """The tools a turn may call: the platform's, and those of the enabled cloud providers."""
    return [tool for tool in TOOLS.values() if tool.provider is None or tool.provider in enabled]
