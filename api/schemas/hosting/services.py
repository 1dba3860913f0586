"""Hosted Docker services (seed 001): the `POST /service` form as validated, the 202 answer, and
`GET /service/{service_id}`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.schemas.base import RequestModel
from api.schemas.conditions import DriftField, ResourceCondition
from api.schemas.hosting.users import USERID_PATTERN
from api.schemas.jobs import JobResponse
from api.schemas.types import UtcDateTime
from contracts.hosting.services import SERVICE_NAME_PATTERN, SERVICE_TYPES, ServiceType


class ServiceCreate(RequestModel):
    """The form's fields once read: at least one type, one source at most, the primary type among
    the chosen ones (the first app type when not given)."""

    userid: str = Field(pattern=USERID_PATTERN)
    service_name: str = Field(
        pattern=SERVICE_NAME_PATTERN,
        description="Unique among the user's services: lowercase letters, digits and `-`, 1-63.",
    )
    service_types: list[ServiceType] = Field(min_length=1, max_length=len(SERVICE_TYPES))
    primary_app_type: ServiceType | None = None
    git_repo_url: str | None = Field(default=None, min_length=1, max_length=500)
    admin_pass: str | None = Field(
        default=None,
        min_length=8,
        max_length=72,
        description="Filebrowser's `admin` password (8-72 characters, at most 72 bytes in UTF-8); "
        "hashed before any job.",
    )
    has_zip: bool = False

    @field_validator("admin_pass")
    @classmethod
    def _bcrypt_sized(cls, password: str | None) -> str | None:
        # bcrypt reads 72 bytes, not characters: a longer password would be refused by the hash.
        if password is not None and len(password.encode()) > 72:
            raise ValueError("admin_pass may be at most 72 bytes in UTF-8")
        return password

    @field_validator("service_types")
    @classmethod
    def _unique_types(cls, types: list[str]) -> list[str]:
        if len(set(types)) != len(types):
            raise ValueError("each service type may be given once")
        return types

    @model_validator(mode="after")
    def _consistent(self) -> ServiceCreate:
        if self.has_zip and self.git_repo_url is not None:
            raise ValueError("send either zip_file or git_repo_url, not both")
        if self.primary_app_type is None:
            apps = [t for t in self.service_types if t != "Filebrowser"]
            self.primary_app_type = (apps or self.service_types)[0]
        elif self.primary_app_type not in self.service_types:
            raise ValueError("primary_app_type must be one of the chosen service_types")
        if "Filebrowser" in self.service_types and self.admin_pass is None:
            raise ValueError("Filebrowser needs admin_pass")
        return self


class ServiceCreateForm(BaseModel):
    """The `multipart/form-data` of `POST /service` as sent (documentation: the route reads it as
    it streams). `service_types` repeats, or is one comma-separated value."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "userid": "u-1001",
                    "service_name": "shop",
                    "service_types": ["PHP", "MySQL"],
                    "primary_app_type": "PHP",
                    "git_repo_url": "https://github.com/conneskills/shop",
                }
            ]
        },
    )

    userid: str = Field(pattern=USERID_PATTERN)
    service_name: str = Field(pattern=SERVICE_NAME_PATTERN)
    service_types: list[ServiceType] = Field(min_length=1, max_length=len(SERVICE_TYPES))
    primary_app_type: ServiceType | None = None
    zip_file: bytes | None = Field(
        default=None,
        json_schema_extra={"format": "binary"},
        description="The service's files as a ZIP (no links, no `..`, bounded size and count).",
    )
    git_repo_url: str | None = Field(
        default=None, max_length=500, description="`https://<allowed host>/owner/repo`."
    )
    admin_pass: str | None = Field(
        default=None,
        min_length=8,
        max_length=72,
        json_schema_extra={"format": "password"},
        description="Adds Filebrowser with this `admin` password.",
    )


class ServiceJob(JobResponse):
    service_id: int = Field(description="The new service's id (`GET /service/{service_id}`).")


class ContainerState(BaseModel):
    name: str
    service: str | None = None
    image: str | None = None
    state: str
    health: str | None = None
    ports: list[str] = Field(default_factory=list)


class ServiceDetail(BaseModel):
    id: int
    userid: str
    service_name: str
    service_types: list[str]
    primary_app_type: str | None = None
    status: str
    access_url: str | None = None
    access_urls: dict[str, str] = Field(default_factory=dict)
    job_id: str | None = None
    created_at: UtcDateTime
    updated_at: UtcDateTime
    containers: list[ContainerState] = Field(
        description="The service's containers as the Docker daemon reports them now."
    )
    compose_file: str | None = Field(
        default=None, description="The service's `docker-compose.yml` (no secret values)."
    )
    conditions: list[ResourceCondition] = Field(
        default_factory=list,
        description="As the drift observer last saw the service (`Ready`, `Synced`, `Drifted`); "
        "empty until it has.",
    )
    drift: list[DriftField] = Field(
        default_factory=list,
        description="A container gone (`<service>`), its image (`<service>.image`) or a plain "
        "variable of the Compose file (`<service>.env.<NAME>`) changed outside the platform.",
    )
    observed_at: UtcDateTime | None = None
