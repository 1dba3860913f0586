"""`GET /logs/stream` as Server-Sent Events: the platform's job log lines, read by offset from
`job_log_lines` (recorded by api/job_log_feed.py, where the choice of that table is explained).
The process's one reader of that table (api/job_log_fanout.py) hands every stream the new lines
from memory as soon as it has them; a stream behind what it keeps reads the table itself.

Each event is `id: <line's id>`, `event: log`, `data: {"job_id", "line_no", "line"}`. A stream
without `Last-Event-ID` starts after the newest line recorded (what happens from now on); with it,
after that id, so a client that reconnects, even to another API process or after a restart, gets
every line it missed exactly once (ids only grow; see store/job_logs.py). With `job_id`, only that
job's lines. While nothing is to be sent, a comment (`: keep-alive`) goes out every
`log_stream_keepalive_seconds`; a client that went away ends the stream at once (or at the next
comment at the latest), and with it its share of the feed. A stopping API process ends its streams
(api/stopping.py): the client reconnects, after `retry`, with its `Last-Event-ID` and loses
nothing."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from api import sse
from api.job_log_feed import JobLogFeed
from core.settings import Settings
from store import job_logs
from store.db import Database

# Lines read from the table at once.
_BATCH = 500
RETRY_MILLISECONDS = sse.RETRY_MILLISECONDS


async def events(
    db: Database,
    feed: JobLogFeed,
    settings: Settings,
    *,
    after: int | None,
    job_id: str | None,
) -> AsyncIterator[str]:
    feed.subscribe()
    fanout = feed.fanout
    try:
        if after is None:
            async with db.transaction() as session:
                after = await job_logs.newest_id(session)
        yield sse.RETRY
        quiet_since = time.monotonic()
        while not feed.ending:
            # Taken before the read, so lines read meanwhile still wake the wait below.
            changed = feed.change()
            rows = fanout.lines_after(after, job_id, _BATCH)
            if rows is None:
                # Behind what the process's reader keeps (a resume from an older id): the table.
                floor = fanout.floor
                async with db.transaction() as session:
                    rows = await job_logs.lines_after(session, after, job_id, _BATCH)
                if not rows and floor is not None:
                    # Every line up to the floor was committed before this read, which found
                    # none of this stream's: the reader's memory serves it from here.
                    after = max(after, floor)
            if rows:
                yield "".join(_event(row.id, row.job_id, row.line_no, row.line) for row in rows)
                after = rows[-1].id
                quiet_since = time.monotonic()
                continue
            quiet = time.monotonic() - quiet_since
            keepalive = settings.log_stream_keepalive_seconds
            if quiet >= keepalive:
                yield sse.KEEPALIVE
                quiet_since = time.monotonic()
                continue
            # The reader wakes the stream; the poll bounds the wait should no reader run.
            wait = min(settings.log_stream_poll_seconds, keepalive - quiet)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), wait)
    finally:
        feed.unsubscribe()


def _event(event_id: int, job_id: str, line_no: int, line: str) -> str:
    return sse.event(event_id, {"job_id": job_id, "line_no": line_no, "line": line}, "log")
