"""Neo4j template over the HTTP transactional API (`/db/{database}/tx/commit`), basic auth."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import httpx

from providers.service_templates.base import MAX_ROWS, Health, require_credential
from providers.service_templates.errors import ExternalServiceError, InvalidOperationParams
from providers.service_templates.http_base import HttpServiceTemplate, healthy, json_body
from providers.service_templates.params import Params
from providers.service_templates.types import ExternalServiceType, ServiceConnection

DEFAULT_DATABASE = "neo4j"
# Neo4j database names: letters, digits, dots and dashes; checked so it cannot alter the path.
_DATABASE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9.\-_]{0,62}")


class Neo4jTemplate(HttpServiceTemplate):
    service_type = ExternalServiceType.NEO4J
    display_name = "Neo4j"
    operations = ("execute_query",)

    def base_url(self, conn: ServiceConnection) -> str:
        if conn.url.split("://")[0] in ("bolt", "bolt+s", "neo4j", "neo4j+s", "neo4j+ssc"):
            raise InvalidOperationParams(
                "Neo4j is reached over its HTTP API: register the http(s)://host:7474 URL, "
                "not the Bolt one",
                field="url",
            )
        return super().base_url(conn)

    def auth(self, conn: ServiceConnection) -> httpx.Auth:
        password = require_credential(conn, "password")
        return httpx.BasicAuth(conn.credentials.get("username") or "neo4j", password)

    async def _commit(
        self,
        conn: ServiceConnection,
        statement: str,
        parameters: dict[str, Any] | None = None,
        database: str | None = None,
    ) -> dict[str, Any]:
        database = database or conn.metadata.get("database") or DEFAULT_DATABASE
        if not isinstance(database, str) or not _DATABASE_NAME.fullmatch(database):
            raise InvalidOperationParams("invalid Neo4j database name", field="database")
        body = {"statements": [{"statement": statement, "parameters": parameters or {}}]}
        response = await self.request(
            conn, "POST", f"/db/{quote(database, safe='')}/tx/commit", json=body
        )
        payload = json_body(response, self.display_name)
        errors = payload.get("errors") or []
        if errors:
            first = errors[0]
            code = first.get("code", "Neo.Unknown")
            raise ExternalServiceError(
                f"Neo4j error {code}: {first.get('message', '')}",
                retryable=".TransientError." in code,
            )
        results = payload.get("results") or [{}]
        return results[0]

    async def probe(self, conn: ServiceConnection) -> Health:
        # The discovery document at / needs no auth; the tiny query proves the credentials.
        discovery = await self.get_json(conn, "/", authenticated=False)
        await self._commit(conn, "RETURN 1")
        version = discovery.get("neo4j_version", "unknown") if isinstance(discovery, dict) else None
        return healthy(
            f"Neo4j {version} answered",
            version=version,
            edition=discovery.get("neo4j_edition") if isinstance(discovery, dict) else None,
        )

    async def op_execute_query(self, conn: ServiceConnection, params: Params) -> dict[str, Any]:
        query = params.required_string("query")
        parameters = params.mapping("parameters")
        database = params.string("database", required=False, max_length=63)
        max_rows = params.integer("max_rows", default=MAX_ROWS, minimum=1, maximum=MAX_ROWS)
        params.finish()
        assert max_rows is not None
        result = await self._commit(conn, query, parameters, database)
        data = result.get("data") or []
        rows = [entry.get("row", []) for entry in data[:max_rows]]
        return {
            "columns": result.get("columns") or [],
            "rows": rows,
            "row_count": len(rows),
            "truncated": len(data) > max_rows,
        }
