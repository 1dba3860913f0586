"""Brings a database to the latest schema with Alembic.

`python -m store.migrate` does it for settings' URL and exits: the one-shot step a deployment runs
before its API replicas start (they then run with `migrate_on_start` off; docs/deploying.md).
"""

from __future__ import annotations

from pathlib import Path

import structlog
from alembic import command
from alembic.config import Config

from core.logging import configure_logging
from core.settings import get_settings

MIGRATIONS = Path(__file__).with_name("migrations")

log = structlog.get_logger(__name__)


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str) -> None:
    """Blocking: call it from a thread (asyncio.to_thread) inside an event loop."""
    command.upgrade(alembic_config(database_url), "head")


def main() -> None:
    configure_logging()
    settings = get_settings()
    upgrade(settings.resolved_database_url)
    log.info("platform tables migrated", revision="head")


if __name__ == "__main__":
    main()
