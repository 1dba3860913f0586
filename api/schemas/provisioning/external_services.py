"""External-service shapes of seed 000 §2.1–2.9.

`secret_refs` maps a credential role to a Secret Manager secret NAME; the roles are the ones the
templates read (`providers.service_templates.types.ServiceConnection`): `password`, `username`,
`api_key`, `token`, `connection_string`. Values never travel through these shapes.

`url` is the service's address only. A URL carrying a credential (`scheme://user:password@host`,
or a credential-named parameter such as `password=`, `token=`, `key=`, `sig=`, checked after
percent-decoding: `api.schemas.url_credentials`) is refused with 400: the password goes into a
secret referenced as `secret_refs.password` (or the whole URL into a `connection_string` secret),
so it is never stored in the table, echoed in a response or written to a log. Its scheme must be
one the type's template is reached with (`postgresql://` for postgres, `redis://` for redis,
`http(s)://` for the HTTP APIs: `url_schemes` on each template), else 400 naming `url`.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Annotated, Any, Literal, get_args
from urllib.parse import unquote, urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from api.schemas.base import FromString, RequestModel
from api.schemas.fields import HttpLink, ServiceUrl
from api.schemas.types import UtcDateTime
from api.schemas.url_credentials import carries_credential
from contracts.limits import MAX_FIELD_JSON_BYTES, check_json_size
from providers.google.secret_manager import SECRET_NAME_PATTERN
from providers.service_templates import ExternalServiceType, redact, url_scheme_problem
from store.provisioning.models import ExternalService

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,127}$"
MAX_URL_LENGTH = 1024
MAX_METADATA_BYTES = 64 * 1024

CredentialRole = Literal["password", "username", "api_key", "token", "connection_string"]
CREDENTIAL_ROLES: tuple[str, ...] = get_args(CredentialRole)
SecretName = Annotated[str, StringConstraints(pattern=SECRET_NAME_PATTERN)]
SecretRefs = dict[CredentialRole, SecretName]

# No whitespace or control characters (PostgreSQL text refuses NUL; logs and headers dislike the rest).
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s\x00-\x1f\x7f]+")
_HTTP_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f]+")

_SECRET_REFS_DESCRIPTION = (
    "Credential role → Secret Manager secret name. Roles: "
    + ", ".join(CREDENTIAL_ROLES)
    + ". Every secret must exist."
)
_URL_DESCRIPTION = (
    "Address of the service (`postgresql://user@host:5432/db`, `redis://host:6379/0`, "
    "`https://…`). Must not contain a password: reference it in `secret_refs.password`, or put "
    "the whole URL in a secret referenced as `secret_refs.connection_string`."
)


def check_url(value: str | None) -> str | None:
    if value is None:
        return None
    if not _URL.fullmatch(value):
        raise ValueError("url must look like scheme://host[:port][/path]")
    try:
        urlsplit(value).port  # noqa: B018 - raises ValueError on a malformed netloc or port
    except ValueError:
        raise ValueError("url is not a valid URL") from None
    if _has_credential(value):
        raise ValueError(
            "url must not carry a credential (user:password@ or a password/token/key/secret "
            "parameter): store it in Secret Manager and reference it in secret_refs "
            "(password, or connection_string for the whole URL)"
        )
    return value


def _has_credential(value: str) -> bool:
    return carries_credential(value) or redact(unquote(value)) != unquote(value)


def check_url_for_type(value: str | None, info: ValidationInfo) -> str | None:
    """`check_url`, then the scheme against the type (create: the body's `type`, when valid)."""
    value = check_url(value)
    service_type = info.data.get("type")
    if value is not None and service_type is not None:
        problem = url_scheme_problem(service_type, value)
        if problem:
            raise ValueError(problem)
    return value


def check_console(value: str | None) -> str | None:
    if value is None:
        return None
    if not _HTTP_URL.fullmatch(value):
        raise ValueError("cloud_console must be an http(s):// link")
    if _has_credential(value):
        raise ValueError("cloud_console must not carry a credential")
    return value


def check_metadata(value: dict[str, Any]) -> dict[str, Any]:
    if len(json.dumps(value, default=str).encode()) > MAX_METADATA_BYTES:
        raise ValueError(f"metadata must be at most {MAX_METADATA_BYTES} bytes as JSON")
    return value


def lowercase_type(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


_CREATE_EXAMPLE = {
    "name": "main-postgres",
    "type": "postgres",
    "url": "postgresql://postgres@db.example.internal:5432/postgres",
    "cloud_console": "https://console.neon.tech/app/projects/example",
    "metadata": {"provider": "neon", "region": "us-east-1"},
    "secret_refs": {"password": "main-postgres-admin-password"},
    "active": True,
}


class ExternalServiceCreate(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_CREATE_EXAMPLE]})

    name: str = Field(pattern=NAME_PATTERN, description="Unique; lowercase, digits, _ and -.")
    type: Annotated[ExternalServiceType, FromString] = Field(
        description="Service type (case-insensitive)."
    )
    url: ServiceUrl | None = Field(default=None, description=_URL_DESCRIPTION)
    cloud_console: HttpLink | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    secret_refs: SecretRefs = Field(default_factory=dict, description=_SECRET_REFS_DESCRIPTION)
    active: bool = True

    normalise_type = field_validator("type", mode="before")(lowercase_type)
    validate_url = field_validator("url")(check_url_for_type)
    validate_console = field_validator("cloud_console")(check_console)
    validate_metadata = field_validator("metadata")(check_metadata)


class ExternalServiceUpdate(RequestModel):
    """Only the fields present in the body change. `secret_refs` replaces the whole mapping;
    `url` and `cloud_console` may be set to null to clear them."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "cloud_console": "https://console.neon.tech/app/projects/example",
                    "secret_refs": {"password": "main-postgres-admin-password-v2"},
                }
            ]
        },
    )

    cloud_console: HttpLink | None = None
    url: ServiceUrl | None = Field(default=None, description=_URL_DESCRIPTION)
    metadata: dict[str, Any] = Field(default_factory=dict)
    secret_refs: SecretRefs = Field(default_factory=dict, description=_SECRET_REFS_DESCRIPTION)
    active: bool = True

    validate_url = field_validator("url")(check_url)
    validate_console = field_validator("cloud_console")(check_console)
    validate_metadata = field_validator("metadata")(check_metadata)


class OperationRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"params": {}},
                {"params": {"name": "analytics"}},
                {"params": {"query": "select 1"}},
                {"params": {"key": "greeting", "value": "hello", "ttl_seconds": 60}},
            ]
        },
    )

    params: dict[str, Any] = Field(
        default_factory=dict,
        description=f"Operation parameters; see each template. At most "
        f"{MAX_FIELD_JSON_BYTES // 1024} KiB as JSON.",
    )

    validate_params = field_validator("params")(check_json_size)


class ExternalServiceSummary(BaseModel):
    id: uuid.UUID
    name: str
    type: str


class ExternalServiceResponse(BaseModel):
    id: uuid.UUID
    name: str
    type: str
    url: str | None = None
    cloud_console: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    secret_refs: dict[str, Any] = Field(
        default_factory=dict, description="Credential role → secret name (never a value)."
    )
    active: bool
    health_status: str | None = None
    last_health_check: UtcDateTime | None = None
    created_at: UtcDateTime | None = None
    updated_at: UtcDateTime | None = None

    @classmethod
    def fields_of(cls, row: ExternalService) -> dict[str, Any]:
        return {
            "id": row.id,
            "name": row.name,
            "type": row.type,
            "url": row.url,
            "cloud_console": row.cloud_console,
            "metadata": dict(row.service_metadata or {}),
            "secret_refs": dict(row.secret_refs or {}),
            "active": bool(row.active),
            "health_status": row.health_status,
            "last_health_check": row.last_health_check,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
        }

    @classmethod
    def from_row(cls, row: ExternalService, **extra: Any):
        return cls(**{**cls.fields_of(row), **extra})


class ExternalServiceCreated(ExternalServiceResponse):
    health_message: str | None = Field(
        default=None,
        description="What the initial health check found; creation succeeds even when unhealthy.",
    )


class ExternalServiceDetails(ExternalServiceResponse):
    """`health_status`, `health_message`, `health_details` and `health_checked_at` are the live
    check's; `last_health_check` is the last one recorded (create, update, `POST /health`): reading
    details records nothing."""

    health_message: str
    health_details: dict[str, Any] = Field(default_factory=dict)
    health_checked_at: UtcDateTime
    available_operations: list[str]


class OperationResult(BaseModel):
    service: str
    operation: str
    result: Any
