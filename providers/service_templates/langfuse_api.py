"""Langfuse template (public REST API): health endpoint plus a key check, list_projects."""

from __future__ import annotations

from typing import Any

import httpx

from providers.service_templates.base import Health, require_credential
from providers.service_templates.errors import InvalidOperationParams
from providers.service_templates.http_base import HttpServiceTemplate, healthy
from providers.service_templates.params import Params
from providers.service_templates.types import ExternalServiceType, ServiceConnection


class LangfuseTemplate(HttpServiceTemplate):
    service_type = ExternalServiceType.LANGFUSE
    display_name = "Langfuse"
    default_url = "https://cloud.langfuse.com"
    operations = ("list_projects",)

    def auth(self, conn: ServiceConnection) -> httpx.Auth:
        # Langfuse's basic auth is public key : secret key. The public key is not secret, so it
        # may sit in metadata; the secret key is the `password` (or `api_key`) credential.
        public_key = conn.credentials.get("username") or conn.metadata.get("public_key")
        if not public_key:
            raise InvalidOperationParams(
                f"service {conn.name!r} has no Langfuse public key "
                "(credentials.username or metadata.public_key)",
                field="credentials.username",
            )
        return httpx.BasicAuth(str(public_key), require_credential(conn, "password", "api_key"))

    async def _projects(self, conn: ServiceConnection) -> list[dict[str, Any]]:
        body = await self.get_json(conn, "/api/public/projects")
        return [
            {"id": p.get("id"), "name": p.get("name")}
            for p in (body.get("data") or [])
            if isinstance(p, dict)
        ]

    async def probe(self, conn: ServiceConnection) -> Health:
        status = await self.get_json(conn, "/api/public/health", authenticated=False)
        # The health endpoint is open; the projects call is what proves the key pair.
        projects = await self._projects(conn)
        version = status.get("version") if isinstance(status, dict) else None
        return healthy(
            f"Langfuse {version or '?'} answered and accepted the key pair",
            version=version,
            projects=len(projects),
        )

    async def op_list_projects(self, conn: ServiceConnection, params: Params) -> dict[str, Any]:
        params.finish()
        return {"projects": await self._projects(conn)}
