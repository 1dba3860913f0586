"""Qdrant template (REST API over httpx): health via the collections list, list_collections."""

from __future__ import annotations

from typing import Any

from providers.service_templates.base import Health
from providers.service_templates.http_base import HttpServiceTemplate, healthy
from providers.service_templates.params import Params
from providers.service_templates.types import ExternalServiceType, ServiceConnection


class QdrantTemplate(HttpServiceTemplate):
    service_type = ExternalServiceType.QDRANT
    display_name = "Qdrant"
    operations = ("list_collections",)

    def headers(self, conn: ServiceConnection) -> dict[str, str]:
        # A local Qdrant may run without an API key; Qdrant Cloud always wants one.
        key = conn.credentials.get("api_key")
        return {"api-key": key} if key else {}

    async def _collections(self, conn: ServiceConnection) -> list[str]:
        body = await self.get_json(conn, "/collections")
        collections = (body.get("result") or {}).get("collections") or []
        return sorted(c["name"] for c in collections if isinstance(c, dict) and "name" in c)

    async def probe(self, conn: ServiceConnection) -> Health:
        # /healthz answers without the API key, so it cannot tell whether the key is right;
        # listing collections checks reachability and the key at once.
        names = await self._collections(conn)
        return healthy(f"Qdrant answered with {len(names)} collection(s)", collections=len(names))

    async def op_list_collections(self, conn: ServiceConnection, params: Params) -> dict[str, Any]:
        params.finish()
        return {"collections": await self._collections(conn)}
