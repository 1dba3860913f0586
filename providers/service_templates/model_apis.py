"""Templates for model-serving APIs: LiteLLM proxy, OpenAI and Anthropic (list_models)."""

from __future__ import annotations

from typing import Any

from providers.service_templates.base import Health, require_credential
from providers.service_templates.http_base import HttpServiceTemplate, healthy
from providers.service_templates.params import Params
from providers.service_templates.types import ExternalServiceType, ServiceConnection

ANTHROPIC_VERSION = "2023-06-01"


class _ModelListTemplate(HttpServiceTemplate):
    operations = ("list_models",)
    models_query: dict[str, Any] | None = None

    async def _model_ids(self, conn: ServiceConnection) -> list[str]:
        body = await self.get_json(
            conn, self.api_path(conn, "/v1/models"), params=self.models_query
        )
        return sorted(
            m["id"] for m in (body.get("data") or []) if isinstance(m, dict) and "id" in m
        )

    async def probe(self, conn: ServiceConnection) -> Health:
        # Listing models is the cheapest call that needs the key, so it proves the key works.
        models = await self._model_ids(conn)
        return healthy(
            f"{self.display_name} answered with {len(models)} model(s)", models=len(models)
        )

    async def op_list_models(self, conn: ServiceConnection, params: Params) -> dict[str, Any]:
        params.finish()
        return {"models": await self._model_ids(conn)}


class LiteLLMTemplate(_ModelListTemplate):
    service_type = ExternalServiceType.LITELLM
    display_name = "LiteLLM"

    def headers(self, conn: ServiceConnection) -> dict[str, str]:
        return {"authorization": f"Bearer {require_credential(conn, 'api_key', 'token')}"}

    async def probe(self, conn: ServiceConnection) -> Health:
        # Liveliness needs no key; it separates "proxy down" from "key rejected" in the message.
        await self.request(conn, "GET", "/health/liveliness", authenticated=False)
        return await super().probe(conn)


class OpenAITemplate(_ModelListTemplate):
    service_type = ExternalServiceType.OPENAI
    display_name = "OpenAI"
    default_url = "https://api.openai.com"

    def headers(self, conn: ServiceConnection) -> dict[str, str]:
        headers = {"authorization": f"Bearer {require_credential(conn, 'api_key', 'token')}"}
        if conn.metadata.get("organization"):
            headers["openai-organization"] = str(conn.metadata["organization"])
        return headers


class AnthropicTemplate(_ModelListTemplate):
    service_type = ExternalServiceType.ANTHROPIC
    display_name = "Anthropic"
    default_url = "https://api.anthropic.com"
    # One page of the maximum size; the model list is far shorter than that.
    models_query = {"limit": 1000}

    def headers(self, conn: ServiceConnection) -> dict[str, str]:
        return {
            "x-api-key": require_credential(conn, "api_key", "token"),
            "anthropic-version": str(conn.metadata.get("anthropic_version") or ANTHROPIC_VERSION),
        }
