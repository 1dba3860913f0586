"""The assistant's tools: platform tools (read-only ones, and `cancel_job`, which changes things),
each defined once by a parameter model whose JSON schema is what the LLM sees (`GET /api/tools` shows the same) and which validates a call
before anything runs. Each reads through the platform's own API route of the same name, so the
tool answers exactly what that route answers, with its checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.job_operations import JOB_OPERATIONS

# The values the API's own enums take (api/schemas: JobStatus, ServiceCategory); a test checks
# they agree, since contracts may not import the API.
JobStatusName = Literal[
    "queued", "running", "needs_attention", "compensating", "completed", "failed", "cancelled"
]
ServiceCategoryName = Literal["managed", "external", "customer"]


class ToolParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ListServicesParams(ToolParams):
    category: ServiceCategoryName | None = Field(
        default=None, description="Only this category of service."
    )
    status: str | None = Field(default=None, max_length=32, description="Only services in it.")
    limit: int = Field(default=20, ge=1, le=100, description="How many services at most.")


class ListJobsParams(ToolParams):
    service_name: str | None = Field(
        default=None, pattern=r"^[a-z0-9-]{1,63}$", description="Only this service's jobs."
    )
    operation: Literal[tuple(sorted(JOB_OPERATIONS))] | None = Field(  # type: ignore[valid-type]
        default=None, description="Only jobs of this operation."
    )
    status: JobStatusName | None = Field(default=None, description="Only jobs in this status.")
    limit: int = Field(default=20, ge=1, le=100, description="How many jobs at most.")


class GetJobParams(ToolParams):
    job_id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,200}$", description="The job's id.")


class CancelJobParams(ToolParams):
    job_id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,200}$", description="The job to cancel.")


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    category: str
    params: type[ToolParams]
    # The platform API route it reads: a path template filled from the parameters named in it;
    # the other parameters go in the query.
    path: str
    # A tool that changes things: POSTs to its route, and runs only as the autonomy level allows
    # (refused under `read_only`, after the user's approval under `semi`).
    mutating: bool = False

    @property
    def method(self) -> str:
        return "POST" if self.mutating else "GET"

    def schema(self) -> dict[str, Any]:
        return self.params.model_json_schema()

    def request(self, params: ToolParams) -> tuple[str, dict[str, Any]]:
        values = params.model_dump(exclude_none=True)
        path = self.path
        for name in list(values):
            if "{" + name + "}" in path:
                path = path.replace("{" + name + "}", str(values.pop(name)))
        return path, values


TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        Tool(
            "list_services",
            "List the platform's services (Cloud Run services, external services) with their "
            "status and URL.",
            "platform",
            ListServicesParams,
            "/api/v1/services",
        ),
        Tool(
            "list_jobs",
            "List the platform's jobs (deploys, builds, onboardings...), newest first, with "
            "their status and progress.",
            "platform",
            ListJobsParams,
            "/api/v1/jobs",
        ),
        Tool(
            "get_job",
            "Get one job by its id: its status, progress, current phase, logs link and result.",
            "platform",
            GetJobParams,
            "/api/v1/jobs/{job_id}",
        ),
        Tool(
            "cancel_job",
            "Cancel a running job by its id (graceful: what it did is undone), as "
            "POST /api/v1/jobs/{job_id}/cancel does. Changes things: may need the user's approval.",
            "platform",
            CancelJobParams,
            "/api/v1/jobs/{job_id}/cancel",
            mutating=True,
        ),
    )
}
