"""Secret shapes of seed 000 §5: requests carry values in, responses never carry them out (except
`SecretValueResponse`, the one read that returns a value).

Decisions:
- `scope` is one of GLOBAL, EXTERNAL, CUSTOMER, MANAGED, matched case-insensitively (the seed writes
  it uppercase in requests and lowercase in the list filter and the labels); responses use uppercase.
- Each scope takes exactly the fields its secret name is built from: CUSTOMER needs `customer`,
  EXTERNAL and MANAGED need `service`, GLOBAL takes neither; any other field → 400 on that field.
- `value` is 1 byte to 64 KiB of UTF-8 (`MAX_SECRET_BYTES`); errors name the field, never the value.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from api.schemas.base import FromString, RequestModel
from api.schemas.types import UtcDateTime
from providers.google.secret_manager import MAX_SECRET_BYTES

KEY_PATTERN = r"^[a-z0-9-]+$"
# A customer prefix (hyphens allowed inside, as `acme-eu`), up to the 32 characters this field
# always took.
CUSTOMER_PATTERN = r"^[a-z](?:[a-z0-9-]{0,30}[a-z0-9])$"
SERVICE_PATTERN = r"^[a-z0-9-]{1,63}$"
# Secret Manager's own rule for secret ids.
SECRET_NAME_MAX = 255
MANAGED_BY = "conneskills-platform"


class SecretScope(StrEnum):
    GLOBAL = "GLOBAL"
    EXTERNAL = "EXTERNAL"
    CUSTOMER = "CUSTOMER"
    MANAGED = "MANAGED"

    @property
    def label(self) -> str:
        return self.value.lower()

    @classmethod
    def from_label(cls, label: str | None) -> SecretScope | None:
        try:
            return cls(label.upper()) if label else None
        except ValueError:
            return None


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


# Accepts `GLOBAL`, `global`, `Global`…; anything else is refused with the allowed values.
ScopeValue = Annotated[SecretScope, FromString, BeforeValidator(_upper)]

_NEEDS = {
    SecretScope.GLOBAL: set(),
    SecretScope.CUSTOMER: {"customer"},
    SecretScope.EXTERNAL: {"service"},
    SecretScope.MANAGED: {"service"},
}


def secret_name(
    scope: SecretScope, key: str, customer: str | None = None, service: str | None = None
) -> str:
    """The full Secret Manager id: GLOBAL `key`, CUSTOMER `customer-key`,
    EXTERNAL `external-service-key`, MANAGED `managed-service-key`."""
    if scope is SecretScope.CUSTOMER:
        return f"{customer}-{key}"
    if scope is SecretScope.EXTERNAL:
        return f"external-{service}-{key}"
    if scope is SecretScope.MANAGED:
        return f"managed-{service}-{key}"
    return key


def _value_size(value: str) -> str:
    size = len(value.encode())
    if size > MAX_SECRET_BYTES:
        raise ValueError(f"the value is {size} bytes in UTF-8; the limit is {MAX_SECRET_BYTES}")
    return value


SecretValue = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_SECRET_BYTES,
        description=f"The secret's value, 1 to {MAX_SECRET_BYTES} bytes of UTF-8. Never returned "
        "except by `GET /api/v1/secrets/{name}/value`.",
    ),
]


class SecretCreateRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"scope": "GLOBAL", "key": "smtp-password", "value": "s3cr3t-value"},
                {
                    "scope": "CUSTOMER",
                    "key": "crm-api-key",
                    "value": "s3cr3t-value",
                    "customer": "acme",
                },
                {
                    "scope": "EXTERNAL",
                    "key": "admin-password",
                    "value": "s3cr3t-value",
                    "service": "postgres-main",
                },
            ]
        },
    )

    scope: ScopeValue = Field(
        description="GLOBAL, EXTERNAL, CUSTOMER or MANAGED (any letter case)."
    )
    key: str = Field(min_length=1, max_length=200, pattern=KEY_PATTERN)
    value: SecretValue
    customer: str | None = Field(
        default=None,
        pattern=CUSTOMER_PATTERN,
        validate_default=True,
        description="Customer prefix; required with CUSTOMER, refused with other scopes.",
    )
    service: str | None = Field(
        default=None,
        pattern=SERVICE_PATTERN,
        validate_default=True,
        description="Service name; required with EXTERNAL and MANAGED, refused with other scopes.",
    )

    @field_validator("value")
    @classmethod
    def _value_fits(cls, value: str) -> str:
        return _value_size(value)

    @field_validator("customer", "service")
    @classmethod
    def _belongs_to_scope(cls, value: str | None, info: ValidationInfo) -> str | None:
        scope = info.data.get("scope")
        if scope is None:  # the scope itself was refused; that error is enough
            return value
        field = info.field_name
        if field in _NEEDS[scope] and value is None:
            raise ValueError(f"{field} is required when scope is {scope.value}")
        if field not in _NEEDS[scope] and value is not None:
            raise ValueError(f"{field} does not apply to scope {scope.value}")
        if field == "service" and value is not None and "key" in info.data:
            length = len(secret_name(scope, info.data["key"], service=value))
            if length > SECRET_NAME_MAX:
                raise ValueError(
                    f"service and key make a secret name of {length} characters; "
                    f"the limit is {SECRET_NAME_MAX}"
                )
        return value

    @property
    def name(self) -> str:
        return secret_name(self.scope, self.key, self.customer, self.service)

    def labels(self) -> dict[str, str]:
        labels = {"scope": self.scope.label, "managed-by": MANAGED_BY}
        if self.customer:
            labels["customer"] = self.customer
        if self.service:
            labels["service"] = self.service
        return labels


class SecretUpdateRequest(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"value": "n3w-s3cr3t-value"}]})

    value: SecretValue

    @field_validator("value")
    @classmethod
    def _value_fits(cls, value: str) -> str:
        return _value_size(value)


class SecretResponse(BaseModel):
    name: str
    scope: SecretScope | None = Field(
        description="From the secret's `scope` label; null for a secret without a known one."
    )
    labels: dict[str, str]
    created_at: UtcDateTime | None
    updated_at: UtcDateTime | None = Field(
        description="When the latest version was added (the creation time if it has none)."
    )


class SecretValueResponse(BaseModel):
    name: str
    value: str


class SecretAuditEntry(BaseModel):
    id: uuid.UUID
    secret_name: str
    api_key_id: uuid.UUID | None
    api_key_name: str | None
    action: str
    accessed_at: UtcDateTime
    detail: str | None = Field(
        description="The outcome (ok, not_found, denied or upstream_error), then for a secret "
        "referenced by an external service or a deployment what referenced it: "
        "`ok; external_service=main-pg; purpose=health_check`."
    )
