"""Migrations as their own step: `python -m store.migrate` alone, API replicas with
`migrate_on_start` off (docker-compose.yml's `migrate` service, docs/deploying.md)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from api import app as api_app
from core.settings import Settings
from store import api_keys as key_store
from store.db import Database
from tests.helpers.platform import ADMIN_KEY, CODEC_KEY, ROOT


def _settings(data_dir: Path, *, migrate_on_start: bool) -> Settings:
    # Nothing listens on port 9: the API's Temporal client is lazy and its Schedules are set up in
    # the background, so the lifespan runs without a server.
    return Settings(
        data_dir=data_dir,
        temporal_address="127.0.0.1:9",
        admin_api_key=ADMIN_KEY,
        codec_key=CODEC_KEY,
        migrate_on_start=migrate_on_start,
    )


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}


async def _run_lifespan(settings: Settings) -> None:
    app = api_app.create_app(settings)
    async with app.router.lifespan_context(app):
        pass


def test_migrate_runs_alone_from_the_settings_database(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNESKILLS_")}
    env["CONNESKILLS_DATA_DIR"] = str(tmp_path)
    subprocess.run([sys.executable, "-m", "store.migrate"], cwd=ROOT, env=env, check=True)
    assert {"alembic_version", "api_keys", "audit_events"} <= _tables(tmp_path / "platform.db")


async def test_the_api_leaves_migrations_to_the_migrate_step_when_told(tmp_path: Path) -> None:
    with pytest.raises(Exception):  # noqa: B017 (the database has no tables: any error will do)
        await _run_lifespan(_settings(tmp_path, migrate_on_start=False))
    assert "alembic_version" not in _tables(tmp_path / "platform.db")


async def test_the_api_starts_on_a_database_the_migrate_step_brought_up(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNESKILLS_")}
    env["CONNESKILLS_DATA_DIR"] = str(tmp_path)
    subprocess.run([sys.executable, "-m", "store.migrate"], cwd=ROOT, env=env, check=True)
    await _run_lifespan(_settings(tmp_path, migrate_on_start=False))
    with sqlite3.connect(tmp_path / "platform.db") as connection:
        assert connection.execute(
            "SELECT count(*) FROM api_keys WHERE key_hash = ?", (key_store.hash_key(ADMIN_KEY),)
        ).fetchone() == (1,)


def test_migrate_on_start_defaults_to_on_for_make_run_and_the_tests() -> None:
    assert Settings.model_fields["migrate_on_start"].default is True


async def test_a_replica_losing_the_admin_key_race_finds_the_winners_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two replicas on a new database may both find the admin key missing; the insert that loses
    (the hash is unique) must not stop the replica from starting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNESKILLS_")}
    env["CONNESKILLS_DATA_DIR"] = str(tmp_path)
    subprocess.run([sys.executable, "-m", "store.migrate"], cwd=ROOT, env=env, check=True)
    db = Database(_settings(tmp_path, migrate_on_start=False).resolved_database_url)
    real_ensure = key_store.ensure
    calls = 0

    async def losing_ensure(session, name, key, scopes):
        nonlocal calls
        calls += 1
        if calls == 1:  # the other replica commits first; this one's insert then fails
            async with db.transaction() as other:
                await real_ensure(other, name, key, scopes)
            raise IntegrityError("INSERT INTO api_keys", {}, Exception("UNIQUE constraint failed"))
        return await real_ensure(session, name, key, scopes)

    monkeypatch.setattr(key_store, "ensure", losing_ensure)
    try:
        await api_app._register_admin_key(db, ADMIN_KEY)
    finally:
        await db.dispose()
    assert calls == 2
