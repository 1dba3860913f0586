"""Supabase template: health and list_tables through the project's PostgREST endpoint."""

from __future__ import annotations

from typing import Any

from providers.service_templates.base import Health, require_credential
from providers.service_templates.http_base import HttpServiceTemplate, healthy
from providers.service_templates.params import Params
from providers.service_templates.types import ExternalServiceType, ServiceConnection


class SupabaseTemplate(HttpServiceTemplate):
    service_type = ExternalServiceType.SUPABASE
    display_name = "Supabase"
    operations = ("list_tables",)

    def headers(self, conn: ServiceConnection) -> dict[str, str]:
        key = require_credential(conn, "api_key", "token")
        headers = {"apikey": key}
        # Legacy anon/service_role keys are JWTs and also go in Authorization; the newer
        # `sb_...` keys are not JWTs and are rejected there.
        if key.startswith("eyJ"):
            headers["authorization"] = f"Bearer {key}"
        return headers

    async def _tables(self, conn: ServiceConnection) -> list[str]:
        # PostgREST's root is its OpenAPI description: one definition per exposed table/view.
        spec = await self.get_json(conn, "/rest/v1/")
        definitions = spec.get("definitions") if isinstance(spec, dict) else None
        if isinstance(definitions, dict):
            return sorted(definitions)
        paths = spec.get("paths", {}) if isinstance(spec, dict) else {}
        return sorted(p.strip("/") for p in paths if p.strip("/") and not p.startswith("/rpc/"))

    async def probe(self, conn: ServiceConnection) -> Health:
        tables = await self._tables(conn)
        return healthy(f"Supabase REST answered with {len(tables)} table(s)", tables=len(tables))

    async def op_list_tables(self, conn: ServiceConnection, params: Params) -> dict[str, Any]:
        params.finish()
        return {"tables": await self._tables(conn)}
