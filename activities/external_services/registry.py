"""Which template serves which external-service type, and the operations each one offers."""

from __future__ import annotations

from types import MappingProxyType

from activities.external_services.base import ExternalServiceTemplate
from activities.external_services.errors import InvalidOperationParams
from activities.external_services.jira_api import JiraTemplate
from activities.external_services.langfuse_api import LangfuseTemplate
from activities.external_services.model_apis import (
    AnthropicTemplate,
    LiteLLMTemplate,
    OpenAITemplate,
)
from activities.external_services.mongodb import MongoDBTemplate
from activities.external_services.mysql import MySQLTemplate
from activities.external_services.neo4j_api import Neo4jTemplate
from activities.external_services.postgres import PostgresTemplate
from activities.external_services.qdrant_api import QdrantTemplate
from activities.external_services.redis_template import RedisTemplate
from activities.external_services.supabase_api import SupabaseTemplate
from activities.external_services.types import ExternalServiceType

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
