"""Shared plumbing for the HTTP-API templates: base URL, one request, status-code mapping."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from providers.service_templates.base import ExternalServiceTemplate, Health
from providers.service_templates.errors import (
    AuthenticationFailed,
    ExternalServiceError,
    InvalidOperationParams,
    redact,
)
from providers.service_templates.types import ServiceConnection
from providers.tls import client_context

HTTP_TIMEOUT_SECONDS = 15.0
HTTP_SCHEMES = ("http", "https")
# Error bodies are quoted into messages for diagnosis, but never at length.
MAX_ERROR_BODY = 200


class HttpServiceTemplate(ExternalServiceTemplate):
    """A service reached over HTTP(S) with `httpx.AsyncClient`.

    Subclasses say where the API lives by default and which headers/auth it wants; requests
    never follow redirects, so credentials are never replayed to another host.
    """

    default_url: ClassVar[str | None] = None
    display_name: ClassVar[str] = "service"
    url_schemes = HTTP_SCHEMES

    def base_url(self, conn: ServiceConnection) -> str:
        return http_url(conn, self.display_name, self.default_url)

    def headers(self, conn: ServiceConnection) -> dict[str, str]:
        """Per-request headers, usually the credential; override."""
        return {}

    def auth(self, conn: ServiceConnection) -> httpx.Auth | None:
        return None

    async def request(
        self,
        conn: ServiceConnection,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        authenticated: bool = True,
    ) -> httpx.Response:
        """One request to `base_url + path`; non-2xx answers raise a service error."""
        url = self.base_url(conn) + path
        where = host_port(url)
        headers = {"accept": "application/json"}
        auth = None
        if authenticated:
            headers.update(self.headers(conn))
            auth = self.auth(conn)
        with transport_errors(self.display_name, where):
            async with httpx.AsyncClient(
                timeout=HTTP_TIMEOUT_SECONDS, follow_redirects=False, verify=client_context()
            ) as client:
                response = await client.request(
                    method, url, json=json, params=params, headers=headers, auth=auth
                )
        check_answer(response, self.display_name, where, conn.secret_values())
        return response

    async def get_json(self, conn: ServiceConnection, path: str, **kwargs: Any) -> Any:
        return json_body(await self.request(conn, "GET", path, **kwargs), self.display_name)

    def api_path(self, conn: ServiceConnection, path: str) -> str:
        """`path` under `/v1`, whether or not the registered URL already ends in `/v1`."""
        return path.removeprefix("/v1") if self.base_url(conn).endswith("/v1") else path


def http_url(conn: ServiceConnection, service: str, default: str | None = None) -> str:
    """The registered `http(s)://host[:port][/path]` URL without a trailing slash."""
    url = (conn.url or default or "").strip()
    if not url:
        raise InvalidOperationParams(f"service {conn.name!r} has no URL", field="url")
    try:
        parts = urlsplit(url)
    except ValueError:
        raise InvalidOperationParams("invalid URL", field="url") from None
    if parts.scheme not in HTTP_SCHEMES or not parts.hostname:
        raise InvalidOperationParams(
            f"{service} URL must be http(s)://host[:port][/path]", field="url"
        )
    return url.rstrip("/")


@contextmanager
def transport_errors(service: str, where: str) -> Iterator[None]:
    """Turn httpx's timeouts and connection failures into a retryable ExternalServiceError
    that names only `host:port` (`from None`: the cause may quote the full URL)."""
    try:
        yield
    except httpx.TimeoutException:
        raise ExternalServiceError(f"{service} at {where} timed out") from None
    except (httpx.TransportError, OSError):
        raise ExternalServiceError(
            f"cannot connect to {service} at {where}: connection refused or unreachable"
        ) from None


def check_answer(response: httpx.Response, service: str, where: str, secrets: list[str]) -> None:
    """Map a non-2xx answer (already read) to the template errors; 2xx passes.

    401/403 is AuthenticationFailed; other errors quote a short, redacted piece of the body;
    a redirect is refused, since following it would replay the credential to another URL.
    """
    if response.status_code in (401, 403):
        raise AuthenticationFailed(
            f"{service} at {where}: authentication failed (HTTP {response.status_code})"
        )
    if response.status_code >= 400:
        body = redact(response.text[:MAX_ERROR_BODY], secrets)
        raise ExternalServiceError(
            f"{service} at {where} answered HTTP {response.status_code}: {body}",
            retryable=response.status_code >= 500 or response.status_code == 429,
        )
    if 300 <= response.status_code < 400:
        raise ExternalServiceError(
            f"{service} at {where} redirected (HTTP {response.status_code}); "
            "register the final URL",
            retryable=False,
        )


def json_body(response: httpx.Response, service: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ExternalServiceError(
            f"{service} answered HTTP {response.status_code} with a body that is not JSON",
            retryable=False,
        ) from None


def host_port(url: str) -> str:
    """`host:port` of `url`, for messages: never the path, query or userinfo."""
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.hostname}:{parts.port or default}"


def healthy(message: str, **details: Any) -> Health:
    return Health("healthy", message, details)
