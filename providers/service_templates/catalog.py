"""Which template serves which external-service type, and the operations each one offers."""

from __future__ import annotations

from types import MappingProxyType

from providers.service_templates.base import ExternalServiceTemplate
from providers.service_templates.errors import InvalidOperationParams
from providers.service_templates.jira_api import JiraTemplate
from providers.service_templates.langfuse_api import LangfuseTemplate
from providers.service_templates.model_apis import (
    AnthropicTemplate,
    LiteLLMTemplate,
    OpenAITemplate,
)
from providers.service_templates.mongodb import MongoDBTemplate
from providers.service_templates.mysql import MySQLTemplate
from providers.service_templates.neo4j_api import Neo4jTemplate
from providers.service_templates.postgres import PostgresTemplate
from providers.service_templates.qdrant_api import QdrantTemplate
from providers.service_templates.redis_template import RedisTemplate
from providers.service_templates.supabase_api import SupabaseTemplate
from providers.service_templates.types import ExternalServiceType

# Templates hold no state, so one instance per type serves every caller.
_TEMPLATES: MappingProxyType[ExternalServiceType, ExternalServiceTemplate] = MappingProxyType(
    {
        t.service_type: t
        for t in (
            PostgresTemplate(),
            MySQLTemplate(),
            RedisTemplate(),
            MongoDBTemplate(),
            QdrantTemplate(),
            Neo4jTemplate(),
            LangfuseTemplate(),
            LiteLLMTemplate(),
            OpenAITemplate(),
            AnthropicTemplate(),
            SupabaseTemplate(),
            JiraTemplate(),
        )
    }
)

SUPPORTED_TYPES: tuple[ExternalServiceType, ...] = tuple(ExternalServiceType)


def _as_type(service_type: ExternalServiceType | str) -> ExternalServiceType:
    try:
        return ExternalServiceType(service_type)
    except ValueError:
        valid = ", ".join(t.value for t in SUPPORTED_TYPES)
        raise InvalidOperationParams(
            f"unsupported service type {service_type!r:.40}; supported: {valid}", field="type"
        ) from None


def get_template(service_type: ExternalServiceType | str) -> ExternalServiceTemplate:
    return _TEMPLATES[_as_type(service_type)]


def available_operations(service_type: ExternalServiceType | str) -> list[str]:
    return get_template(service_type).available_operations()


def url_scheme_problem(service_type: ExternalServiceType | str, url: str) -> str | None:
    """Why `url` cannot be registered for `service_type` (its scheme), or None when it can."""
    template = get_template(service_type)
    scheme = url.partition(":")[0]
    if template.accepts_url_scheme(scheme):
        return None
    allowed = ", ".join(f"{s}://" for s in template.url_schemes)
    drivers = " (or scheme+driver://)" if template.url_scheme_drivers else ""
    return f"a {ExternalServiceType(service_type).value} url must start with {allowed}{drivers}"
