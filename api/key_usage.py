"""API keys' `last_used_at` (seed 001: "updated on every valid use") without a database write per
request: each authenticated request notes its key's use in memory, and one background task writes
the latest use of each key every `api_key_usage_flush_seconds`, one transaction for all of them.

As with the audit writer (api/audit_writer.py), a failed write is kept and retried at the next
flush, and stopping the API writes what is pending. Only a hard kill of the API process loses the
uses of the last interval; `last_used_at` then shows an earlier use, never a later one."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import datetime

import structlog

from store import api_keys
from store.db import Database
from store.models import utcnow

log = structlog.get_logger(__name__)


class KeyUsage:
    def __init__(self, db: Database, flush_seconds: float) -> None:
        self.db = db
        self.flush_seconds = flush_seconds
        self._pending: dict[uuid.UUID, datetime] = {}
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    def used(self, key_id: uuid.UUID) -> None:
        """Notes a valid use now: a dict write, nothing else on the request's path."""
        self._pending[key_id] = utcnow()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="api-key-usage")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        try:
            await self.flush()
        except Exception as error:  # the database is gone: only these last uses are lost
            log.error("api key last uses not written", keys=len(self._pending), error=str(error))

    async def flush(self) -> None:
        """Writes the uses noted so far (the API-key listing calls it, so it shows them)."""
        async with self._lock:
            batch, self._pending = self._pending, {}
            if not batch:
                return
            try:
                async with self.db.transaction() as session:
                    await api_keys.mark_used(session, batch)
            except BaseException:
                # Kept for the next flush, unless a later use of the same key came meanwhile.
                for key_id, used_at in batch.items():
                    self._pending.setdefault(key_id, used_at)
                raise

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.flush_seconds)
            try:
                await self.flush()
            except Exception as error:  # kept and retried: the database may come back
                log.warning(
                    "api key last uses not written yet, retrying",
                    keys=len(self._pending),
                    error_type=type(error).__name__,
                )
