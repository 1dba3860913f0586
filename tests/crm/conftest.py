"""The CRM API in-process (ASGI) over a scratch database: SQLite, and the real PostgreSQL."""

from __future__ import annotations

from contextlib import AsyncExitStack

import httpx
import pytest

from api.app import create_app
from providers.tls import client_context
from tests.helpers.platform import ADMIN_KEY, make_settings
from tests.helpers.postgres import scratch_postgres


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
        verify=client_context(),
        transport=httpx.ASGITransport(app=app),
        base_url="http://crm.test",
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        timeout=60,
    )
    return CrmApp(app, http), lifespan


@pytest.fixture(params=["sqlite", "postgres"])
async def crm(request, tmp_path):
    async with AsyncExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp_path / 'platform.db'}"
        else:
            url = await stack.enter_async_context(scratch_postgres("crm"))
        crm_app, lifespan = await open_app(tmp_path, url)
        yield crm_app
        await crm_app.http.aclose()
        await lifespan.__aexit__(None, None, None)
