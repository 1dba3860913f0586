"""Learned APIs and webhooks (seed 002): what their routes take and answer. A webhook's secret is
taken once and never answered; a learned API's credentials are a secret's *name*."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from api.schemas.base import RequestModel
from api.schemas.types import UtcDateTime
from contracts.assistant.webhooks import EVENTS

EventName = Literal[EVENTS]  # type: ignore[valid-type]
WEBHOOK_ID_PATTERN = r"^wh_[a-z0-9]{1,32}$"
SECRET_LENGTH = (8, 256)


class CredentialsIn(RequestModel):
    secret: str = Field(
        pattern=r"^[A-Za-z0-9_-]{1,255}$",
        description="The Secret Manager secret whose value authenticates the API's calls; "
        "referencing it needs the `secrets` scope.",
    )
    header: str = Field(default="Authorization", pattern=r"^[A-Za-z0-9-]{1,64}$")
    scheme: str | None = Field(
        default="Bearer",
        pattern=r"^[A-Za-z]{1,20}$",
        description="Sent before the value (`Bearer <value>`); null sends the value alone.",
    )


class LearnApiRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"type": "openapi", "source": "https://api.example.com/swagger.json"}]
        }
    )

    type: Literal["openapi"] = Field(description="OpenAPI 3 or Swagger 2, JSON or YAML.")
    source: str = Field(
        min_length=8,
        max_length=2000,
        description="The document's http(s) URL; its address must be public (or on "
        "`outbound_allowed_addresses`).",
    )
    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")
    credentials: CredentialsIn | None = None


class LearnApiAccepted(BaseModel):
    id: str
    job_id: str
    status: Literal["learning"] = "learning"


class LearnedApiView(BaseModel):
    id: str
    name: str
    type: str
    source: str
    base_url: str
    endpoints: int
    learned_at: UtcDateTime


class LearnedApiList(BaseModel):
    apis: list[LearnedApiView]


class WebhookCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://tu-servidor.com/webhook",
                    "events": ["alert.critical", "tool.executed"],
                    "secret": "tu-secreto",
                }
            ]
        }
    )

    url: str = Field(min_length=8, max_length=2000)
    events: list[EventName] = Field(min_length=1, max_length=len(EVENTS))
    secret: SecretStr = Field(
        description="Signs every delivery (HMAC-SHA256), 8 to 256 characters; kept in Secret "
        "Manager, never answered.",
        json_schema_extra={"minLength": SECRET_LENGTH[0], "maxLength": SECRET_LENGTH[1]},
    )

    @field_validator("secret")
    @classmethod
    def _secret_length(cls, secret: SecretStr) -> SecretStr:
        # Checked here rather than with Field's bounds, whose message on a SecretStr speaks of
        # "items".
        low, high = SECRET_LENGTH
        if not low <= len(secret.get_secret_value()) <= high:
            raise ValueError(f"the secret must be {low} to {high} characters long")
        return secret


class WebhookView(BaseModel):
    id: str
    url: str
    events: list[str]
    created_at: UtcDateTime


class WebhookList(BaseModel):
    webhooks: list[WebhookView]


class DeliveryAttemptView(BaseModel):
    delivery_id: str
    event: str
    event_id: str
    attempt: int
    attempted_at: UtcDateTime
    outcome: Literal["delivered", "failed", "refused"]
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryAttemptList(BaseModel):
    deliveries: list[DeliveryAttemptView]
