"""Brings a database to the latest schema with Alembic; `python -m store.migrate` does it for settings' URL."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from core.settings import get_settings

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str) -> None:
    """Blocking: call it from a thread (asyncio.to_thread) inside an event loop."""
    command.upgrade(alembic_config(database_url), "head")


if __name__ == "__main__":
    upgrade(get_settings().resolved_database_url)
