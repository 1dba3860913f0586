"""`POST /api/auth/login` (seed 002)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.base import RequestModel


class LoginRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"username": "admin", "password": "password"}]}
    )

    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=1, max_length=256)


class LoginResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds the token is valid (86400 by default).")
