"""Async engine and session factory for the platform's own tables (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

T = TypeVar("T")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the API read while the worker writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL syncs at checkpoints, not at every commit: a commit survives a crash
    # of the process (not of the machine's power), and commits stop waiting on an fsync each.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_engine(database_url: str) -> AsyncEngine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # Connections past pool_size are opened and closed per checkout; at 10 concurrent requests the
    # default 5 made every other request reconnect (TLS attempt included), so keep 10 open.
    # No pre-ping: it cost a round trip per checkout (a tenth of a CRM ingest). A connection the
    # server dropped fails its first statement instead; SQLAlchemy then invalidates it and every
    # pooled connection older than it, `Database.write` runs its work again on a fresh one, and
    # other callers see one error (a 503, or a retried activity). Recycling bounds a connection's
    # life below the idle timeouts of proxies and poolers.
    return create_async_engine(url, pool_size=10, pool_recycle=1800)


class _DeadConnection(Exception):
    pass


class _SqliteWriter:
    """SQLite's writes on one thread with the synchronous driver.

    aiosqlite hands every cursor call to its thread and back (eight hand-offs for a two-INSERT
    transaction, each a wake-up of two threads: most of the CRM ingest's CPU on SQLite). Here the
    whole transaction is one hand-off. One thread also means one writer at a time, which is all
    SQLite admits: writes queue here instead of polling in SQLite's busy handler."""

    def __init__(self, url: URL) -> None:
        self.engine: Engine = create_sync_engine(
            url.set(drivername="sqlite"), connect_args={"timeout": 30}
        )
        event.listen(self.engine, "connect", _sqlite_pragmas)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")

    def _in_transaction(self, work: Callable[[Connection], T]) -> T:
        with self.engine.begin() as connection:
            return work(connection)

    async def run(self, work: Callable[[Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._in_transaction, work)

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        self.engine.dispose()


class Database:
    """One engine and its session factory; created by the API's lifespan and by the worker."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.engine = create_engine(database_url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        url = make_url(database_url)
        self._sqlite_writer = (
            _SqliteWriter(url)
            if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
            else None
        )

    @property
    def write_engine(self) -> Engine:
        """The engine `write` runs on (tests hook its events)."""
        if self._sqlite_writer is not None:
            return self._sqlite_writer.engine
        return self.engine.sync_engine

    async def write(self, work: Callable[[Connection], T]) -> T:
        """Runs `work(connection)` in one transaction on a bare Core connection (no ORM): on a
        writer thread for SQLite, on the async engine's connection (greenlet-driven) otherwise.
        For hot write paths; `work` must do nothing but database calls."""
        if self._sqlite_writer is not None:
            return await self._sqlite_writer.run(work)
        try:
            return await self._write_once(work, dead_is_retried=True)
        except _DeadConnection:
            # Found dead before the commit, so nothing was written on it (see create_engine).
            return await self._write_once(work, dead_is_retried=False)

    async def _write_once(self, work: Callable[[Connection], T], *, dead_is_retried: bool) -> T:
        async with self.engine.connect() as connection:
            try:
                result = await connection.run_sync(work)
            except DBAPIError as error:
                if dead_is_retried and error.connection_invalidated:
                    raise _DeadConnection from error
                raise
            # A failed commit is not retried: it may have been written.
            await connection.commit()
            return result

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        if self._sqlite_writer is not None:
            await asyncio.to_thread(self._sqlite_writer.close)
        await self.engine.dispose()
