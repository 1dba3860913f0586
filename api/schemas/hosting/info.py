"""The hosting system's informational answers: welcome, heartbeat, the key test."""

from __future__ import annotations

from pydantic import BaseModel

from api.schemas.types import UtcDateTime


class Welcome(BaseModel):
    message: str
    docs: str


class Heartbeat(BaseModel):
    status: str
    time: UtcDateTime


class Protected(BaseModel):
    message: str
    key_name: str
    scopes: list[str]
