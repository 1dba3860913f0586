"""One reader of `job_log_lines` per API process: it reads each new line once and hands it to every
open log stream of the process, instead of each stream reading the table for itself.

When it reads: as soon as this process records lines (the job log feed pokes it), as soon as any
process records lines on PostgreSQL (`LISTEN job_log_lines`; the recording transaction sends the
`NOTIFY` as it commits, store/job_logs.py), and at the latest every `log_stream_poll_seconds` (the
shared poll: lines another process recorded on SQLite, or a listener connection that is down or
refused, as a transaction-mode pooler refuses `LISTEN`).

What it keeps: the lines it has read since it started, up to `_KEEP` of the newest, in id order,
and its *floor*: every line with an id above the floor is among them (up to what it has read). A
stream at or past the floor is served from memory; one behind it (a `Last-Event-ID` from before,
or a stream that fell far behind) reads the table itself until it has caught up. Ids are the
durable offset: lines appear in the table in id order (store/job_logs.py), so reading past the
newest id read loses nothing."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
from collections import deque
from dataclasses import dataclass

import structlog
from sqlalchemy import make_url

from core.settings import Settings
from store import job_logs
from store.db import Database

log = structlog.get_logger(__name__)

# Lines read at once, and the newest lines kept for the streams.
_BATCH = 500
_KEEP = 5000
# The LISTEN connection: how long its making may take, and how long after a failure to try again.
_LISTEN_TIMEOUT = 5.0
_LISTEN_RETRY_SECONDS = 30.0


@dataclass(frozen=True)
class Line:
    id: int
    job_id: str
    line_no: int
    line: str


class LineFanout:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._lines: deque[Line] = deque()
        self._ids: deque[int] = deque()
        self._floor: int | None = None
        self._last = 0
        self._poke = asyncio.Event()
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listener = None
        self._listen_again_at = 0.0
        self._closing = False
        self.running = False

    # --- for the feed and the streams ------------------------------------------------------------

    def start(self) -> None:
        """Reads while any stream of this process is open (the feed starts and stops it)."""
        self.running = True
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="job-log-fanout")

    def stop_reading(self) -> None:
        self.running = False
        self._poke.set()

    def poke(self) -> None:
        """Lines were recorded (by this process, or NOTIFY said so): read them now."""
        self._poke.set()

    def offer(self, rows) -> None:
        """Lines this process has just committed: kept at once when they come right after the
        newest line read (ids are in commit order, so nothing else can come between), which
        spares reading them back; otherwise the reader reads the table (poke)."""
        ids = [row.id for row in rows]
        if (
            not ids
            or self._floor is None
            or ids[0] != self._last + 1
            or ids != list(range(ids[0], ids[0] + len(ids)))
        ):
            return
        self._keep(Line(row.id, row.job_id, row.line_no, row.line) for row in rows)

    def _keep(self, lines) -> None:
        kept = False
        for line in lines:
            if line.id <= self._last:  # taken already (offered while a read was under way)
                continue
            self._lines.append(line)
            self._ids.append(line.id)
            self._last = line.id
            kept = True
        if kept:
            while len(self._lines) > _KEEP:
                self._lines.popleft()
                self._floor = self._ids.popleft()
            self.wake_all()

    def change(self) -> asyncio.Event:
        """Set once new lines are in memory (or the streams are to end); take it before
        reading, then wait on it."""
        return self._changed

    def wake_all(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def lines_after(self, after: int, job_id: str | None, limit: int) -> list[Line] | None:
        """The kept lines after `after` (only `job_id`'s when given), oldest first; None when
        `after` is below the floor (the caller reads the table)."""
        if self._floor is None or after < self._floor:
            return None
        start = bisect.bisect_right(self._ids, after)
        found: list[Line] = []
        for index in range(start, len(self._lines)):
            line = self._lines[index]
            if job_id is None or line.job_id == job_id:
                found.append(line)
                if len(found) >= limit:
                    break
        return found

    @property
    def floor(self) -> int | None:
        return self._floor

    async def close(self) -> None:
        self._closing = True
        self.stop_reading()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._unlisten()

    # --- reading ---------------------------------------------------------------------------------

    async def _run(self) -> None:
        stopped = False
        try:
            async with self.db.transaction() as session:
                newest = await job_logs.newest_id(session)
            self._lines.clear()
            self._ids.clear()
            self._floor = self._last = newest
            while self.running:
                await self._listen()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._poke.wait(), self.settings.log_stream_poll_seconds)
                self._poke.clear()
                if not self.running:
                    break
                try:
                    await self._read()
                except Exception as error:  # the database away: the next wake reads again
                    log.warning("job log lines not read", error_type=type(error).__name__)
            stopped = True
        except Exception as error:
            log.warning("job log fan-out stopped", error_type=type(error).__name__)
        finally:
            self._floor = None  # the streams read the table until a reader runs again
            await self._unlisten()
            if stopped and self.running and not self._closing:
                # A stream opened while this reader was ending: it needs one.
                self._task = asyncio.create_task(self._run(), name="job-log-fanout")

    async def _read(self) -> None:
        while True:
            async with self.db.transaction() as session:
                rows = await job_logs.lines_after(session, self._last, None, _BATCH)
            self._keep(Line(row.id, row.job_id, row.line_no, row.line) for row in rows)
            if len(rows) < _BATCH:
                return

    # --- PostgreSQL: LISTEN ----------------------------------------------------------------------

    async def _listen(self) -> None:
        """On PostgreSQL, a connection of its own that LISTENs (made again if it was lost)."""
        url = make_url(self.db.url)
        if url.get_backend_name() != "postgresql":
            return
        if self._listener is not None and not self._listener.is_closed():
            return
        now = asyncio.get_running_loop().time()
        if now < self._listen_again_at:
            return
        import asyncpg

        try:
            dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
            self._listener = await asyncio.wait_for(asyncpg.connect(dsn), _LISTEN_TIMEOUT)
            await self._listener.add_listener(job_logs.NOTIFY_CHANNEL, self._notified)
            # Lines recorded while no one listened: read them now.
            self._poke.set()
        except Exception as error:  # the poll carries on alone meanwhile
            log.info("job log lines not listened for", error_type=type(error).__name__)
            self._listen_again_at = now + _LISTEN_RETRY_SECONDS
            await self._unlisten()

    def _notified(self, *_args) -> None:
        self._poke.set()

    async def _unlisten(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(Exception):
                await listener.close(timeout=2)
