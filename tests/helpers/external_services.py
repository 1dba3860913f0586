"""Set-up the external-service API tests share: per-test secrets that remember their values, and the
requests they make over and over."""

from __future__ import annotations

import asyncio
import re
import uuid

import asyncpg
import httpx

from api.schemas.provisioning.external_services import NAME_PATTERN
from providers.google.secret_manager import SecretStore
from providers.tls import client_context
from tests.helpers.platform import POSTGRES_URL, REDIS_URL

BASE = "/api/v1/external-services"


def without_other_processes_names(names) -> set[str]:
    """The names less those other test processes make and drop on the shared database servers
    meanwhile: a word and 8 or more hex digits (`cs_pg_<hex>`, the fault harness's `hdb<hex>` and
    `hsvc<hex>`, the service-database jobs' `svc_<hex>`, `zenml_<prefix>_<hex>`). None of the names
    the template tests reject looks like one."""
    return {n for n in names if not re.fullmatch(r"[a-z_-]*[g-z_-][0-9a-f]{8,}", n)}


class Secrets:
    """Secrets created for one test (unique names), deleted afterwards; remembers sensitive values."""

    def __init__(self, settings) -> None:
        self.store = SecretStore(settings)
        self.names: list[str] = []
        self.sensitive: list[str] = []

    async def create(self, value: str, *, sensitive: bool = True, prefix: str = "es") -> str:
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        await asyncio.to_thread(self.store.create, name, value, {"test": "external-services"})
        self.names.append(name)
        if sensitive:
            self.sensitive.append(value)
        return name

    async def password(self) -> tuple[str, str]:
        value = f"Pw-{uuid.uuid4().hex}-S3cret"
        return await self.create(value), value

    async def delete(self, name: str) -> None:
        await asyncio.to_thread(self.store.delete, name)

    async def cleanup(self) -> None:
        for name in self.names:
            await self.delete(name)


def unique(prefix: str = "svc") -> str:
    return f"es-t-{prefix}-{uuid.uuid4().hex[:8]}"


async def key_with(http: httpx.AsyncClient, api_server, *scopes: str) -> httpx.AsyncClient:
    response = await http.post("/api/v1/api-keys", json={"name": "es-test", "scopes": list(scopes)})
    assert response.status_code == 201, response.text
    return httpx.AsyncClient(
        verify=client_context(),
        base_url=api_server.url,
        headers={"X-API-Key": response.json()["key"]},
        timeout=60,
    )


async def create(http: httpx.AsyncClient, **body) -> dict:
    response = await http.post(BASE, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def postgres_service(http, secrets, **extra) -> dict:
    name, _ = await secrets.password()
    return await create(
        http,
        name=unique("pg"),
        type="postgres",
        url=POSTGRES_URL,
        secret_refs={"password": name},
        **extra,
    )


async def redis_service(http, secrets, **extra) -> dict:
    # The server has no password: the whole URL lives in a connection_string secret.
    name = await secrets.create(REDIS_URL, sensitive=False)
    return await create(
        http, name=unique("redis"), type="redis", secret_refs={"connection_string": name}, **extra
    )


async def operation(http, service_id, op: str, params: dict | None = None) -> httpx.Response:
    body = None if params is None else {"params": params}
    return await http.post(f"{BASE}/{service_id}/operations/{op}", json=body)


async def pg_database_exists(name: str) -> bool:
    pg = await asyncpg.connect(POSTGRES_URL)
    try:
        return bool(await pg.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await pg.close()


async def assert_not_registered(http, name: str) -> None:
    if re.fullmatch(NAME_PATTERN, name):
        assert (await http.get(f"{BASE}/name/{name}")).status_code == 404
    listed = (await http.get(BASE, params={"active_only": "false"})).json()
    assert name not in {s["name"] for s in listed}
