"""`GET/PUT /api/config` (seed 002): the assistant's configuration, merged field by field."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.base import RequestModel

AutonomyLevel = Literal["manual", "semi", "auto"]


class LlmConfig(BaseModel):
    provider: str
    model: str


class AgentConfig(BaseModel):
    autonomy_level: AutonomyLevel


class CloudProviderConfig(BaseModel):
    enabled: bool


class CloudProviders(BaseModel):
    aws: CloudProviderConfig
    azure: CloudProviderConfig
    gcp: CloudProviderConfig


class AssistantConfig(BaseModel):
    llm: LlmConfig
    agent: AgentConfig
    cloud_providers: CloudProviders


DEFAULT_CONFIG = {
    "llm": {"provider": "openai", "model": "gpt-4"},
    "agent": {"autonomy_level": "semi"},
    "cloud_providers": {
        "aws": {"enabled": False},
        "azure": {"enabled": False},
        "gcp": {"enabled": False},
    },
}


class LlmUpdate(RequestModel):
    provider: str | None = Field(default=None, min_length=1, max_length=64)
    model: str | None = Field(default=None, min_length=1, max_length=100)


class AgentUpdate(RequestModel):
    autonomy_level: AutonomyLevel | None = None


class CloudProviderUpdate(RequestModel):
    enabled: bool


class CloudProvidersUpdate(RequestModel):
    aws: CloudProviderUpdate | None = None
    azure: CloudProviderUpdate | None = None
    gcp: CloudProviderUpdate | None = None


class ConfigUpdate(RequestModel):
    """Only what changes: every field is optional and merged into the current configuration."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"llm": {"provider": "anthropic", "model": "claude-3-5-sonnet"}}]
        }
    )

    llm: LlmUpdate | None = None
    agent: AgentUpdate | None = None
    cloud_providers: CloudProvidersUpdate | None = None
