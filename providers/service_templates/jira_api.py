"""Jira template (REST API v2): health via serverInfo + myself, get_server_info."""

from __future__ import annotations

from typing import Any

import httpx

from providers.service_templates.base import Health, require_credential
from providers.service_templates.http_base import HttpServiceTemplate, healthy
from providers.service_templates.params import Params
from providers.service_templates.types import ExternalServiceType, ServiceConnection

_SERVER_INFO_FIELDS = (
    "baseUrl",
    "version",
    "versionNumbers",
    "deploymentType",
    "buildNumber",
    "serverTitle",
)


class JiraTemplate(HttpServiceTemplate):
    service_type = ExternalServiceType.JIRA
    display_name = "Jira"
    operations = ("get_server_info",)

    def auth(self, conn: ServiceConnection) -> httpx.Auth | None:
        # Jira Cloud: e-mail + API token as basic auth. Jira Data Center: a personal access
        # token as Bearer, with no username.
        if conn.credentials.get("username"):
            secret = require_credential(conn, "api_key", "token", "password")
            return httpx.BasicAuth(conn.credentials["username"], secret)
        return None

    def headers(self, conn: ServiceConnection) -> dict[str, str]:
        if conn.credentials.get("username"):
            return {}
        return {"authorization": f"Bearer {require_credential(conn, 'token', 'api_key')}"}

    async def _server_info(self, conn: ServiceConnection) -> dict[str, Any]:
        body = await self.get_json(conn, "/rest/api/2/serverInfo")
        return {k: body[k] for k in _SERVER_INFO_FIELDS if k in body}

    async def probe(self, conn: ServiceConnection) -> Health:
        info = await self._server_info(conn)
        # serverInfo may answer anonymously; /myself is what proves the credentials.
        me = await self.get_json(conn, "/rest/api/2/myself")
        user = me.get("emailAddress") or me.get("name") or me.get("accountId")
        return healthy(
            f"Jira {info.get('version', '?')} answered and accepted the credentials",
            version=info.get("version"),
            deployment_type=info.get("deploymentType"),
            user=user,
        )

    async def op_get_server_info(self, conn: ServiceConnection, params: Params) -> dict[str, Any]:
        params.finish()
        return await self._server_info(conn)
