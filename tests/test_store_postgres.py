"""The platform's tables on PostgreSQL (production runs on a Supabase Postgres): migrations apply and
the repositories work there as on SQLite, in a scratch database of the test server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from store import api_keys
from store.migrate import upgrade
from store.provisioning import service_registry as services
from store.provisioning.models import Customer, ServiceRecord
from tests.helpers.postgres import migrated_postgres


@pytest.fixture
async def pg_database():
    async with migrated_postgres("platform") as db:
        yield db


async def test_migrations_and_repositories_work_on_postgresql(pg_database):
    async with pg_database.transaction() as session:
        customer = Customer(prefix="acme", name="Acme")
        session.add(customer)
    async with pg_database.transaction() as session:
        await services.upsert(
            session,
            name="acme-crm",
            region="us-central1",
            url="https://x",
            image="img",
            customer_prefix="acme",
            labels={"tier": "gold"},
            deployed_at=datetime.now(UTC),
        )
        await api_keys.ensure(session, "admin", "csk_pg_key", ["admin"])
    async with pg_database.transaction() as session:
        record, owner = await services.with_customer(session, "acme-crm")
        assert record.category == "customer" and owner.prefix == "acme"
        assert record.labels == {"tier": "gold"}
        assert (await api_keys.find_active(session, "csk_pg_key")).scopes == ["admin"]
        assert await services.remove(session, "acme-crm") is True
    async with pg_database.transaction() as session:
        assert await session.scalar(select(ServiceRecord)) is None
    # Running the migrations again is a no-op.
    await asyncio.to_thread(upgrade, str(pg_database.engine.url.render_as_string(False)))
