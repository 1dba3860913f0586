"""Alembic environment: runs migrations on the async engine the platform uses."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

import store.assistant.models  # noqa: F401  (the seed-002 assistant tables)
import store.crm.models  # noqa: F401  (the seed-003 CRM tables)
import store.hosting.models  # noqa: F401  (the seed-001 hosting tables)
import store.oversight.models  # noqa: F401  (audit trail and alerts)
import store.provisioning.models  # noqa: F401  (registers the seed-000 tables on Base.metadata)
from store.db import create_engine
from store.models import Base

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = create_engine(config.attributes["database_url"])
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


asyncio.run(_run_async())
