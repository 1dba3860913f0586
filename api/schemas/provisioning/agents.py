"""Agent shapes of seed 000 §4: the deploy request (with the seed's defaults) and the read models."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from api.schemas.base import FromString, RequestModel
from api.schemas.conditions import DriftField, ResourceCondition
from api.schemas.fields import ImageRef
from api.schemas.provisioning.services import REGION_PATTERN
from api.schemas.types import UtcDateTime
from contracts.provisioning.agents import AGENT_NAME_PATTERN
from providers.google import cloud_run_rules as cloud_run

# Works as written on a fresh `make run` once the customer exists (the prompt is seeded).
_EXAMPLE = {
    "customer_id": "00000000-0000-4000-8000-000000000000",
    "agent_name": "researcher",
    "prompt_ref": "researcher-system",
    "image": "us-docker.pkg.dev/cloudrun/container/hello:latest",
    "default_model": "gpt-4o",
}


class AgentDeployRequest(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    customer_id: Annotated[uuid.UUID, FromString] = Field(
        description="The customer that owns the agent."
    )
    agent_name: str = Field(
        pattern=AGENT_NAME_PATTERN,
        description="Lowercase letters, digits and hyphens, at most 28 characters; the service is "
        "`{customer prefix}-{agent_name}`.",
    )
    prompt_ref: str = Field(min_length=1, max_length=255, description="A prompt id in LiteLLM.")
    image: ImageRef
    default_model: str = Field(min_length=1, max_length=255, examples=["gpt-4o"])
    agent_role: str | None = Field(
        default=None, min_length=1, max_length=255, description="AGENT_ROLE; the name if unset."
    )
    cpu: str = Field(default="1", pattern=r"^(\d+(\.\d+)?|\d+m)$")
    memory: str = Field(default="512Mi", pattern=r"^\d+(Mi|Gi)$")
    port: int = Field(default=9100, ge=1, le=65535)
    min_instances: int = Field(default=0, ge=0, le=1000)
    max_instances: int = Field(default=3, ge=1, le=1000)
    allow_public_access: bool = False
    region: str | None = Field(
        default=None,
        pattern=REGION_PATTERN,
        description="A Cloud Run region; default from settings.",
    )

    check_image = field_validator("image")(cloud_run.check_image)
    check_cpu = field_validator("cpu")(cloud_run.check_cpu)

    @field_validator("region")
    @classmethod
    def _region(cls, region: str | None) -> str | None:
        return None if region is None else cloud_run.check_region(region)

    @field_validator("memory")
    @classmethod
    def _memory(cls, memory: str, info: ValidationInfo) -> str:
        cloud_run.check_memory(memory)
        if info.data.get("cpu") is not None:
            cloud_run.check_cpu_and_memory(info.data["cpu"], memory)
        return memory

    @model_validator(mode="after")
    def _scaling(self) -> AgentDeployRequest:
        if self.min_instances > self.max_instances:
            raise ValueError("min_instances cannot exceed max_instances")
        try:
            cloud_run.check_fractional_cpu(self.cpu, self.memory, None)
        except cloud_run.CloudRunRuleError as error:
            raise ValueError(f"cpu/memory: {error}") from None
        return self


class AgentResponse(BaseModel):
    service_name: str
    service_url: str | None = None
    status: str
    agent_name: str
    customer_id: uuid.UUID | None = None
    customer_prefix: str | None = None
    region: str | None = None
    message: str
    conditions: list[ResourceCondition] = Field(
        default_factory=list,
        description="The agent's Cloud Run service as the drift observer last saw it (`Ready`, "
        "`Synced`, `Drifted`); reconcile it with `POST /api/v1/services/{service_name}/reconcile`.",
    )
    drift: list[DriftField] = Field(
        default_factory=list, description="Fields changed outside the platform; empty: in sync."
    )
    observed_at: UtcDateTime | None = None


class PromptInfo(BaseModel):
    prompt_id: str
    version: int | None = None
    environment: str | None = None
    prompt_type: str | None = None
    created_at: UtcDateTime | None = None
    updated_at: UtcDateTime | None = None
