"""The CRM API in-process (ASGI) over a scratch database: SQLite, and the real PostgreSQL."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from api.app import create_app
from tests.helpers.platform import ADMIN_KEY, POSTGRES_URL, make_settings


async def _scratch_postgres() -> tuple[str, str]:
    name = f"crm_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(POSTGRES_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    parts = urlsplit(POSTGRES_URL)
    return name, urlunsplit(parts._replace(scheme="postgresql+asyncpg", path=f"/{name}"))


async def _drop_postgres(name: str) -> None:
    admin = await asyncpg.connect(POSTGRES_URL)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


class CrmApp:
    """The real app (every router, middleware and error handler), its database and an admin client."""

    def __init__(self, app, http: httpx.AsyncClient) -> None:
        self.app = app
        self.http = http

    @property
    def db(self):
        return self.app.state.platform.db

    async def account(self, auto_crear_campos: bool = True) -> tuple[str, str]:
        response = await self.http.post(
            "/api/v1/admin/accounts",
            json={"nombre": "ACME", "auto_crear_campos": auto_crear_campos},
        )
        assert response.status_code == 201, response.text
        return response.json()["id"], response.json()["api_key"]

    async def counts(self) -> dict[str, int]:
        from sqlalchemy import func, select

        from store.crm.models import Campo, Delivery, Lead, Record

        async with self.db.transaction() as session:
            return {
                m.__tablename__: await session.scalar(select(func.count()).select_from(m))
                for m in (Record, Lead, Campo, Delivery)
            }


async def open_app(tmp_path, database_url: str, **overrides):
    settings = make_settings(
        tmp_path,
        "127.0.0.1:1",
        "http://127.0.0.1:1",
        database_url=database_url,
        crm_ingest_rate_limit=overrides.pop("crm_ingest_rate_limit", "100000/second"),
        **overrides,
    )
    app = create_app(settings)
    lifespan = app.router.lifespan_context(app)
    await lifespan.__aenter__()
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://crm.test",
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        timeout=60,
    )
    return CrmApp(app, http), lifespan


@pytest.fixture(params=["sqlite", "postgres"])
async def crm(request, tmp_path):
    name = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'platform.db'}"
    else:
        name, url = await _scratch_postgres()
    crm_app, lifespan = await open_app(tmp_path, url)
    yield crm_app
    await crm_app.http.aclose()
    await lifespan.__aexit__(None, None, None)
    if name:
        await _drop_postgres(name)
