"""`GET/PUT /api/config` (seed 002): the assistant's configuration, merged field by field."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.schemas.base import RequestModel
from contracts.assistant.turn import AutonomyLevel

# The names the first slice stored, read as the levels they meant.
_FORMER_LEVELS = {"manual": "read_only", "auto": "full"}


def _level(value: Any) -> Any:
    return _FORMER_LEVELS.get(value, value) if isinstance(value, str) else value


class LlmConfig(BaseModel):
    provider: str
    model: str


class AgentConfig(BaseModel):
    autonomy_level: AutonomyLevel

    _former = field_validator("autonomy_level", mode="before")(_level)


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
