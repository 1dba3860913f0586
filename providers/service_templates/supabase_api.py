"""Supabase template: health and list_tables through the official `supabase` client.

Every call builds `supabase.AsyncClient` (via `acreate_client`, which makes no request: with no
stored session it only reads its in-memory storage) and talks to the project's PostgREST
through `client.postgrest`, whose URL and headers the library sets. What goes on the wire
(checked against supabase 2.34 / postgrest 2.34):

- every URL is `{registered url}/rest/v1/…`; a path in the registered URL is kept;
- headers: `apiKey: <key>`, `Authorization: Bearer <key>`, `Accept-Profile: public` and
  `Content-Profile: public`, `X-Client-Info: supabase-py/<version>; platform=…`; no `Accept`
  (httpx sends `*/*`, which PostgREST's root answers with its OpenAPI document). The query
  builder adds PostgREST syntax (`?select=id&name=eq.x`, `Prefer: return=representation`);
- the client always puts the key in `Authorization` too. Legacy anon/service_role keys are JWTs
  (`eyJ…`) and PostgREST reads the role from them, so they keep it. The newer `sb_publishable_…`
  / `sb_secret_…` keys are not JWTs and Supabase documents that they do not belong there (its
  gateway only tolerates the copy today), so for any key that is not a JWT the template
  removes `Authorization` from the PostgREST client's headers and `apikey` alone authorizes.

The HTTP client underneath is ours, handed over through the documented
`AsyncClientOptions(httpx_client=…)`: the library's default one follows redirects (which would
replay the key to another host) and waits 120 s. Ours does not follow redirects, times out after
`HTTP_TIMEOUT_SECONDS`, and maps every answer with the same rules as the other HTTP templates
(401/403 → AuthenticationFailed, other errors → ExternalServiceError naming only host:port) in a
response hook, so a call made through the PostgREST query builder is mapped the same way as the
OpenAPI read (postgrest's own APIError does not keep the HTTP status). The library's retry of
failed GETs is off: Temporal's retry policy decides, from `ExternalServiceError.retryable`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from postgrest import AsyncPostgrestClient
from supabase import AsyncClientOptions, acreate_client

from providers.service_templates.base import ExternalServiceTemplate, Health, require_credential
from providers.service_templates.http_base import (
    HTTP_SCHEMES,
    HTTP_TIMEOUT_SECONDS,
    check_answer,
    healthy,
    host_port,
    http_url,
    json_body,
    transport_errors,
)
from providers.service_templates.params import Params
from providers.service_templates.types import ExternalServiceType, ServiceConnection
from providers.tls import client_context


class SupabaseTemplate(ExternalServiceTemplate):
    service_type = ExternalServiceType.SUPABASE
    display_name = "Supabase"
    url_schemes = HTTP_SCHEMES
    operations = ("list_tables",)

    @asynccontextmanager
    async def rest(self, conn: ServiceConnection) -> AsyncIterator[AsyncPostgrestClient]:
        """The project's PostgREST client from the official `supabase` client, open for one use.

        Credential roles: `api_key` (the project's API key), or `token` as an alias.
        """
        url = http_url(conn, self.display_name)
        key = require_credential(conn, "api_key", "token")
        where = host_port(url)
        secrets = conn.secret_values()

        async def check(response: httpx.Response) -> None:
            await response.aread()
            check_answer(response, self.display_name, where, secrets)

        async with httpx.AsyncClient(
            timeout=HTTP_TIMEOUT_SECONDS,
            follow_redirects=False,
            verify=client_context(),
            event_hooks={"response": [check]},
        ) as http:
            options = AsyncClientOptions(
                httpx_client=http,
                auto_refresh_token=False,
                persist_session=False,
                postgrest_client_retry=False,
            )
            client = await acreate_client(url, key, options=options)
            # Held here: the client rebuilds `client.postgrest` (headers included) on auth events.
            rest = client.postgrest
            if not is_jwt(key):
                rest.headers.pop("Authorization", None)
            with transport_errors(self.display_name, where):
                yield rest

    async def _tables(self, conn: ServiceConnection) -> list[str]:
        # PostgREST's root is its OpenAPI description: one definition per exposed table/view.
        # The query builder has no call for it, so it is a GET on the client's own session with
        # the client's own URL (`…/rest/v1/`) and headers.
        async with self.rest(conn) as rest:
            response = await rest.session.get(str(rest.base_url.joinpath("")), headers=rest.headers)
        spec = json_body(response, self.display_name)
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


def is_jwt(key: str) -> bool:
    """Legacy anon/service_role keys are JWTs, whose base64url header always starts `eyJ`
    (`{"`); the newer `sb_…` keys, and anything else, are not."""
    return key.startswith("eyJ")
