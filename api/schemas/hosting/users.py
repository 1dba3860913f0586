"""Hosting users (seed 001): `POST /users` (a form) and `GET /users/{userid}`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.base import RequestModel
from api.schemas.types import UtcDateTime

USERID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$"


class UserCreate(RequestModel):
    """The form of `POST /users`: both fields required, nothing else accepted."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"userid": "u-1001", "username": "Ana Pérez"}]}
    )

    userid: str = Field(
        pattern=USERID_PATTERN,
        description="The user's unique id: letters, digits, `_.@-`, 1-64 characters.",
    )
    username: str = Field(
        min_length=1,
        max_length=128,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="The user's display name (no control characters).",
    )


class HostingUser(BaseModel):
    userid: str
    username: str
    created_at: UtcDateTime


class UserService(BaseModel):
    id: int
    service_name: str
    service_types: list[str]
    primary_app_type: str | None = None
    status: str
    access_url: str | None = None


class UserVm(BaseModel):
    id: int = Field(description="The VM's Proxmox VMID.")
    vm_name: str
    os_type: str
    node: str | None = None
    status: str
    cores: int | None = None
    memory_mb: int | None = None
    disksize_gb: int | None = None
    access_url: str | None = None


class UserDetail(HostingUser):
    services: list[UserService]
    vms: list[UserVm]
    access_urls: list[str] = Field(
        description="Where the user's services and VMs answer, services first."
    )
