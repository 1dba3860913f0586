"""API key management shapes."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.base import RequestModel
from api.schemas.types import UtcDateTime

Scope = Literal["read", "write", "admin", "secrets", "crm", "runners", "hosting", "assistant"]


class ApiKeyCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "ci-deployer", "scopes": ["read", "write"]}]},
    )

    name: str = Field(min_length=1, max_length=128)
    scopes: list[Scope] = Field(min_length=1, max_length=len(Scope.__args__))


class ApiKeyInfo(BaseModel):
    id: uuid.UUID
    name: str
    key_prefix: str
    scopes: list[str]
    active: bool
    created_at: UtcDateTime
    last_used_at: UtcDateTime | None = None


class ApiKeyCreated(ApiKeyInfo):
    key: str = Field(description="Shown once: only its hash is stored.")
