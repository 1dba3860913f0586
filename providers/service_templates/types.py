"""Value types shared by every external-service template: service types, connections, health results."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field

from providers.service_templates.errors import redact_url


class ExternalServiceType(StrEnum):
    POSTGRES = "postgres"
    MYSQL = "mysql"
    REDIS = "redis"
    MONGODB = "mongodb"
    QDRANT = "qdrant"
    NEO4J = "neo4j"
    LANGFUSE = "langfuse"
    LITELLM = "litellm"
    OPENAI = "openai"
    ANTHROPIC = "anthropic"
    SUPABASE = "supabase"
    JIRA = "jira"


class ServiceConnection(BaseModel):
    """Everything a template needs to reach one registered service.

    `credentials` maps a credential role (`password`, `username`, `api_key`, `token`,
    `connection_string`) to the secret VALUE, already resolved from Secret Manager by the
    caller. It is kept out of repr and the URL is shown redacted, so a connection that ends up
    in a log line or a traceback does not leak a secret.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    type: ExternalServiceType
    url: str = ""
    credentials: dict[str, str] = Field(default_factory=dict, repr=False)
    metadata: dict[str, Any] = Field(default_factory=dict)

    def __repr_args__(self):  # type: ignore[override]
        for key, value in super().__repr_args__():
            yield key, (redact_url(value) if key == "url" and isinstance(value, str) else value)

    def secret_values(self) -> list[str]:
        """Every secret this connection carries, for scrubbing messages."""
        values = [v for v in self.credentials.values() if v]
        for url in (self.url, self.credentials.get("connection_string", "")):
            try:
                password = urlsplit(url).password if url else None
            except ValueError:
                password = None
            if password:
                values.extend({password, unquote(password)})
        return values


def utc_now() -> datetime:
    return datetime.now(UTC)


class HealthCheckResult(BaseModel):
    service_name: str
    status: Literal["healthy", "unhealthy", "unknown"]
    message: str
    details: dict[str, Any] = Field(default_factory=dict)
    checked_at: datetime = Field(default_factory=utc_now)
