"""The API-key cache is per database: a process serving two platforms (as the test suite does,
each app on its own database) gives each the principal of its own key row. A process-wide cache
handed one database's row id to the other, where the same Idempotency-Key then derived another
job id (seen as a repeated POST answering 409 in the parallel suite)."""

from __future__ import annotations

import asyncio

from api.auth import principal_for_key
from store import api_keys
from store.db import Database
from store.migrate import upgrade

KEY = "csk_the-same-key-in-two-platforms"


async def _platform(path) -> tuple[Database, object]:
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    async with db.transaction() as session:
        row = await api_keys.ensure(session, "admin", KEY, ["admin"])
    return db, row.id


async def test_each_database_gets_the_principal_of_its_own_key_row(tmp_path):
    first, first_id = await _platform(tmp_path / "a.db")
    second, second_id = await _platform(tmp_path / "b.db")
    try:
        assert first_id != second_id
        assert (await principal_for_key(first, KEY)).key_id == first_id
        assert (await principal_for_key(second, KEY)).key_id == second_id
        assert (await principal_for_key(first, KEY)).key_id == first_id
    finally:
        await first.dispose()
        await second.dispose()
