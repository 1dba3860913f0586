"""Each new platform database of a test process starts as a copy of one migrated once.

The suite starts about 150 platforms, each on a data directory of its own, and the API migrates
its database at start (`migrate_on_start`): Alembic loads its environment and every revision's
script and runs them all, about 0.06 s of CPU each time. A copy of a database Alembic already
brought to head costs about 1 ms, and the API's own upgrade at start then finds nothing to do, as
it does on any restart. The migrations themselves are tested where they are the subject
(`tests/ops/test_migrate_on_start.py`, `tests/test_store*.py`), on databases of their own.
"""

from __future__ import annotations

import functools
import sqlite3
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

from store.migrate import upgrade

DATABASE_FILE = "platform.db"


def sqlite_url(database: Path) -> str:
    """The platform's URL for a SQLite database file."""
    return f"sqlite+aiosqlite:///{database}"


@functools.cache
def _migrated_template() -> Path:
    directory = Path(tempfile.mkdtemp(prefix="migrated-platform-db-"))
    # In a thread of its own, as the API runs it: Alembic's environment runs an event loop of its
    # own, and the caller may be inside one (an async fixture).
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(upgrade, sqlite_url(directory / DATABASE_FILE)).result()
    return directory / DATABASE_FILE


def start_from_migrated_copy(database: Path) -> None:
    """Makes `database` a copy of the migrated template, unless it exists (a platform started
    again on its data directory keeps what it has)."""
    if database.exists():
        return
    database.parent.mkdir(parents=True, exist_ok=True)
    # SQLite's backup API: a consistent copy whatever the template's journal holds.
    with (
        closing(sqlite3.connect(_migrated_template())) as source,
        closing(sqlite3.connect(database)) as copy,
    ):
        source.backup(copy)
