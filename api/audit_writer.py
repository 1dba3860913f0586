"""Writes audit rows off the request path: a bounded in-process queue, drained in batches by one
background task, so a mutating request pays for a dict and a `put`, not a database commit.

No row is dropped silently:
- a full queue makes the request that records the row wait for room (after its answer was sent),
  so a burst slows down rather than loses rows;
- a batch the database refuses (down, locked) is kept and retried with backoff, the queue filling
  behind it, and each failure is logged;
- at shutdown the queue is drained into the database; what still cannot be written is appended to
  `audit-spill-<pid>.jsonl` under the data directory (fsynced), and the next API start imports it;
- only a hard kill of the API process loses the rows not yet written: under normal load the
  calls of the last `_LINGER_SECONDS` (0.2 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import select

from store.db import Database
from store.oversight import audit
from store.oversight.models import AuditEvent

log = structlog.get_logger(__name__)

BATCH = 500
_RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)
_SPILL_GLOB = "audit-spill-*.jsonl"
# How long a batch's first row waits for others: the most a hard kill of the API can lose.
_LINGER_SECONDS = 0.2
# How long a stopping API waits for the database to take what is queued before spilling it.
_STOP_SECONDS = 10.0


class AuditWriter:
    def __init__(self, db: Database, data_dir: Path, queue_size: int) -> None:
        self.db = db
        self.data_dir = data_dir
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=queue_size)
        self._task: asyncio.Task[None] | None = None
        self._batch: list[dict[str, Any]] = []

    async def record(self, row: dict[str, Any]) -> None:
        try:
            self._queue.put_nowait(row)
        except asyncio.QueueFull:
            log.warning("audit queue full: the request waits for room", size=self._queue.maxsize)
            await self._queue.put(row)

    def depth(self) -> int:
        """Rows recorded and not yet in the database: queued, and the batch being written."""
        return self._queue.qsize() + len(self._batch)

    async def start(self) -> None:
        await self._import_spills()
        self._task = asyncio.create_task(self._run(), name="audit-writer")

    async def flushed(self) -> None:
        """Returns once every row recorded so far is in the database (tests, shutdown)."""
        await self._queue.join()

    async def stop(self, wait_seconds: float = _STOP_SECONDS) -> None:
        """Drains the queue into the database; spills to disk what cannot be written in time."""
        if self._task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), wait_seconds)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        left = self._batch + _drain(self._queue)
        self._batch = []
        if left:
            self._spill(left)

    async def _run(self) -> None:
        while True:
            self._batch = [await self._queue.get()]
            # The first row waits a moment for company: one transaction per request cost the job
            # start path a millisecond of CPU each (bench/job_start.py), one per batch does not.
            await asyncio.sleep(_LINGER_SECONDS)
            self._batch += _drain(self._queue, BATCH - 1)
            attempt = 0
            while True:
                try:
                    async with self.db.transaction() as session:
                        await audit.insert_many(session, self._batch)
                    break
                except Exception as error:  # kept and retried: the database may come back
                    delay = _RETRY_SECONDS[min(attempt, len(_RETRY_SECONDS) - 1)]
                    log.error(
                        "audit rows not written yet, retrying",
                        rows=len(self._batch),
                        pending=self._queue.qsize(),
                        error_type=type(error).__name__,
                        retry_in=delay,
                    )
                    attempt += 1
                    await asyncio.sleep(delay)
            done, self._batch = len(self._batch), []
            for _ in range(done):
                self._queue.task_done()

    def _spill(self, rows: list[dict[str, Any]]) -> None:
        path = self.data_dir / f"audit-spill-{os.getpid()}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as spill:
            for row in rows:
                spill.write(json.dumps(row, default=_json_default) + "\n")
            spill.flush()
            os.fsync(spill.fileno())
        log.error("audit rows spilled to disk, imported at the next start", rows=len(rows))

    async def _import_spills(self) -> None:
        for path in sorted(self.data_dir.glob(_SPILL_GLOB)):
            # Renamed first: of several API processes starting together, one imports each file.
            claimed = path.with_suffix(f".importing-{os.getpid()}")
            try:
                path.rename(claimed)
            except OSError:
                continue
            rows = [_from_json(line) for line in claimed.read_text().splitlines() if line.strip()]
            async with self.db.transaction() as session:
                ids = [row["id"] for row in rows]
                known = set(
                    await session.scalars(select(AuditEvent.id).where(AuditEvent.id.in_(ids)))
                )
                await audit.insert_many(session, [r for r in rows if r["id"] not in known])
            claimed.unlink()
            log.info("audit rows imported from a spill file", rows=len(rows), file=path.name)


def _drain(queue: asyncio.Queue[dict[str, Any]], limit: int | None = None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while (limit is None or len(rows) < limit) and not queue.empty():
        rows.append(queue.get_nowait())
    return rows


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(type(value).__name__)


def _from_json(line: str) -> dict[str, Any]:
    row = json.loads(line)
    row["id"] = uuid.UUID(row["id"])
    row["occurred_at"] = datetime.fromisoformat(row["occurred_at"])
    if row.get("actor_key_id"):
        row["actor_key_id"] = uuid.UUID(row["actor_key_id"])
    return row
