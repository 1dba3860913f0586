"""The job log feed: records every job's log lines, as they happen, in the platform's database
(`job_log_lines`), where the hosting system's `GET /logs/stream` reads them by offset.

Why a table. A job's log lives in its workflow's state (workflows/tracking.py), read by the
`job_state` query, with the newest lines in its memo; neither gives a line an address that
survives a restart of the API. The table does: a line's autoincrement id is the stream's event id,
so a client's `Last-Event-ID` resumes exactly after the last line it got, from any API process,
after any restart. The workflows are unchanged (no activity per log line, no history growth).

How lines get there. While a stream is open in an API process, its feed lists, every
`job_log_record_seconds`, the jobs that run or ended since its last pass (one visibility listing).
The running ones are followed (below); each other one (ended, or past `_MAX_FOLLOWED`) is queued
and read apart, the newest first: asked for its state (the query, else the memo when no worker
answers) and its lines past its cursor (`job_log_cursors`) appended at once. A query no worker
answers waits out its timeout, so a pass never waits for its reads: a job that ends is read next,
not behind the workflows of a gone worker or the catch-up below. A pass alone would deliver a line
up to a whole interval late, so the feed *follows* each running job it knows (those this process
starts, at once, and those a pass finds; at most `_MAX_FOLLOWED`): a long poll on the job's history
returns when one of its workflow tasks ends, which is when a line it logged becomes readable, and
the job is read and recorded then, and this process's one reader of the table
(api/job_log_fanout.py) is poked to read the new lines at once and hand them to every open stream
(other processes' readers hear of them by PostgreSQL NOTIFY, or at their short shared poll). Lines
are numbered in their job's log and unique per (job, number): two API processes recording the same job add each line once. A job read after it
ended is never read again. A feed that starts catches up on the jobs that ended since any feed last
recorded (at most `job_log_catch_up_hours` back), so lines a job logged while no stream was open
are still delivered, with ids after the ones already streamed.

Limits, written down: a job read only through its memo (no worker answered) whose log grew by more
than the memo holds (50 lines) between two reads has the lines in between skipped; a log past the
workflow's bound (10 000 lines) is followed by its last recorded line; a job that ended before its
memo was kept final (workflows/tracking.py, `final-job-memo`) and whose query no worker answers
within `_QUERY_TIMEOUT` is recorded from its last memo, which lacks a line logged after the job's
last memo write (a failed publication of its outcome event, a lock release that failed) - that
line is never recorded; a pass looks at the first `_JOBS_PER_PASS` jobs its listing returns, so a
catch-up over more ended jobs than that leaves the others unrecorded.

A job that has ended with a final memo holding its whole log (most: the memo keeps 50 lines) is
recorded from that memo, with no query: its memo is saved again after any line logged past its
final phase, so it is the log the query would answer, without a replay of the job's history on a
worker, and with no worker up."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

import structlog
from sqlalchemy.exc import IntegrityError
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus

from api import job_history
from api.job_engine import final_memo_is_whole
from api.job_log_fanout import LineFanout
from contracts.jobs import JOB_MEMO_KEY, JOB_STATE_QUERY, MAX_LOG_LINES, JobState, JobSummaryMemo
from contracts.resource_lock import LOCK_WORKFLOW
from core.settings import Settings
from store import job_logs
from store.db import Database
from store.models import JobLogCursor, utcnow

log = structlog.get_logger(__name__)

_QUERY_TIMEOUT = timedelta(seconds=3)
# Jobs read at the same time, and the most one pass looks at.
_CONCURRENT_READS = 8
_JOBS_PER_PASS = 1000
# Visibility records a close a moment after it happens: each pass looks back this much further.
_CLOSE_MARGIN = timedelta(seconds=30)
# Running jobs followed through their history at once (beyond, the passes alone record them).
# Each holds a long poll on the process's one Temporal connection, whose concurrent HTTP/2
# streams are bounded: with 128 held, every other call of the API process (starting a job, a
# pass's reads) queued behind them and an ended job's lines came 20 s late; 64 stay clear.
_MAX_FOLLOWED = 64
# A history long poll: how long the server may hold it (it answers sooner when it has events).
_LONG_POLL = timedelta(seconds=70)


class JobLogFeed:
    def __init__(self, db: Database, client: Client, settings: Settings) -> None:
        self.db = db
        self.client = client
        self.settings = settings
        self._subscribers = 0
        self._task: asyncio.Task[None] | None = None
        self._since: datetime | None = None
        # Reads the recorded lines once for all this process's streams (api/job_log_fanout.py).
        self.fanout = LineFanout(db, settings)
        self._followed: dict[str, asyncio.Task[None]] = {}
        # The jobs a pass found whose lines no follower records, read the newest first.
        self._queued: dict[str, WorkflowExecution] = {}
        self._unread: list[str] = []
        self._readers: set[asyncio.Task[None]] = set()
        self.ending = False

    # --- for the streams -------------------------------------------------------------------------

    def subscribe(self) -> None:
        """A stream opened: the feed records while any stream of this process is open."""
        self._subscribers += 1
        if not self.ending:
            self.fanout.start()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="job-log-feed")

    def unsubscribe(self) -> None:
        self._subscribers = max(0, self._subscribers - 1)
        if self._subscribers == 0:
            self.fanout.stop_reading()

    def follow(self, job_id: str) -> None:
        """Records the running job's new lines as soon as it logs them, while any stream of this
        process is open: a long poll on its history wakes at the end of each of its workflow
        tasks (where a line is logged), and the job is read then. Called for each job this
        process starts and each running job a pass finds."""
        if self._subscribers <= 0 or self.ending or job_id in self._followed:
            return
        if len(self._followed) >= _MAX_FOLLOWED:
            return
        task = asyncio.create_task(self._follow(job_id), name=f"job-log-follow-{job_id}")
        self._followed[job_id] = task
        task.add_done_callback(
            lambda done: self._followed.pop(job_id) if self._followed.get(job_id) is done else None
        )

    def change(self) -> asyncio.Event:
        """Set once this process's reader has new lines (recorded here or by any process), or
        once its streams are to end; take it before reading, then wait on it."""
        return self.fanout.change()

    def end_streams(self) -> None:
        """The process is stopping (api/stopping.py): every open stream ends now, instead of
        holding the shutdown; its client resumes elsewhere with `Last-Event-ID`."""
        self.ending = True
        self.fanout.wake_all()

    async def stop(self) -> None:
        self.end_streams()
        self._subscribers = 0
        tasks = [
            *self._followed.values(),
            *self._readers,
            *([self._task] if self._task is not None else []),
        ]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.fanout.close()

    # --- recording -------------------------------------------------------------------------------

    async def _run(self) -> None:
        while self._subscribers > 0:
            try:
                await self.record_once()
            except Exception as error:  # Temporal or the database away: the next pass retries
                log.warning("job log lines not recorded yet", error_type=type(error).__name__)
            await asyncio.sleep(self.settings.job_log_record_seconds)

    def _wake(self, added: int) -> None:
        if added and not self.ending:
            self.fanout.poke()

    async def _follow(self, job_id: str) -> None:
        """Long-polls the job's history and records its log at each workflow task's end, until
        the job ends or no stream of this process is open. The query runs beside the long poll
        (one at a time, again when a task ended meanwhile): a slow worker never holds up the
        lines the next tasks' memos bring."""
        token = b""
        querier: asyncio.Task[None] | None = None
        try:
            async with self.db.transaction() as session:
                cursor = (await job_logs.cursors(session, [job_id])).get(job_id)
            if cursor is not None and cursor.ended:
                return
            # What this follower has recorded (detached: the recording re-reads the cursor).
            done = _Cursor(cursor.line_count, cursor.last_line) if cursor else _Cursor(0, None)
            stale = asyncio.Event()
            querier = asyncio.create_task(self._query_when_stale(job_id, done, stale))
            while self._subscribers > 0 and not self.ending:
                answer = await job_history.next_events(self.client, job_id, token, _LONG_POLL)
                token = answer.next_page_token
                events = {event.event_type for event in answer.history.events}
                ended = bool(events & job_history.CLOSE_EVENTS)
                if ended or EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED in events:
                    # A task that changed the job's phase wrote its memo, newest lines included,
                    # into these very events: recorded from there at once, without the query's
                    # round trip to a worker; the query then adds any line logged after it.
                    self._wake(await self._record_memo(job_id, answer.history.events, done))
                    if ended:
                        querier.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await querier
                        self._wake(await self._record_job(job_id, done, ended=True) or 0)
                    else:
                        stale.set()
                if ended or not token:  # the job has ended: its history is complete
                    return
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the passes record the job meanwhile; a later pass follows it
            log.info("job log not followed", job_id=job_id, error_type=type(error).__name__)
        finally:
            if querier is not None:
                querier.cancel()

    async def _query_when_stale(self, job_id: str, done: _Cursor, stale: asyncio.Event) -> None:
        while True:
            await stale.wait()
            stale.clear()
            try:
                added = await self._record_job(job_id, done, ended=False)
            except Exception as error:  # the next task's end records it
                log.info("job log not read", job_id=job_id, error_type=type(error).__name__)
                continue
            if added is None:
                # No worker answered: asked again at the passes' pace (no pass reads a followed
                # job), for a line logged without a phase change.
                await asyncio.sleep(self.settings.job_log_record_seconds)
                stale.set()
            else:
                self._wake(added)

    async def _record_memo(self, job_id: str, events, done: _Cursor) -> int:
        """Records the lines of the newest job memo among the events (none: nothing)."""
        payload = None
        for event in events:
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
                fields = event.workflow_properties_modified_event_attributes.upserted_memo.fields
                if JOB_MEMO_KEY in fields:
                    payload = fields[JOB_MEMO_KEY]
        if payload is None:
            return 0
        try:
            [value] = await self.client.data_converter.decode([payload])
            memo = JobSummaryMemo.model_validate(value)
        except Exception:  # not a job's memo after all: the query reads the job
            return 0
        return await self._write(job_id, memo.logs, memo.log_count, done, ended=False)

    async def _record_job(self, job_id: str, done: _Cursor, ended: bool) -> int | None:
        """Records the followed job's new lines now, from its query (its memo once it has
        ended and no worker answers); `done` moves with what was recorded. None: no worker
        answered (a running job)."""
        handle = self.client.get_workflow_handle(job_id)
        description = await handle.describe() if ended else None
        final = await _final_memo_log(description) if description is not None else None
        if final is not None:
            # Its final memo holds its whole log: no query (a replay of its history on a worker).
            return await self._write(job_id, *final, done, ended=ended)
        try:
            state = await handle.query(
                JOB_STATE_QUERY, result_type=JobState, rpc_timeout=_QUERY_TIMEOUT
            )
            window, total = state.logs, len(state.logs)
        except Exception:
            if description is None:
                return None
            window, total = await _memo_log(description)
            if window is None:
                return 0
        return await self._write(job_id, window, total, done, ended=ended)

    async def _write(
        self, job_id: str, window: list[str], total: int, done: _Cursor, *, ended: bool
    ) -> int:
        """Records the window's lines past `done` (one writer per follower at a time) and moves
        `done`. A line another writer (a pass, another process) added first is skipped."""
        async with done.lock:
            lines, count, last = _numbered(window, total, done)
            if not lines and not ended:
                return 0
            added = await self._commit(job_logs.Recorded(job_id, lines, count, last, ended=ended))
            done.line_count, done.last_line = max(count, done.line_count), last
        # Lines another API process recorded first are in the table as well: wake for them too.
        return max(added, len(lines))

    async def _commit(self, read: job_logs.Recorded) -> int:
        """Records one job's read in a transaction of its own; returns the lines added."""
        for attempt in (1, 2):
            try:
                added = await self.db.write(partial(job_logs.record, reads=[read]))
            except IntegrityError:
                # Another API process added the same line meanwhile (SQLite): once more, past
                # its cursor.
                if attempt == 2:
                    raise
                continue
            # Committed: the reader may take them as they are, if they come next.
            self.fanout.offer(added)
            return len(added)
        return 0

    async def record_once(self) -> None:
        """One pass: lists the jobs running or ended since the last pass and queues for reading
        those whose new lines no follower records (`_read_queued`), without waiting for them."""
        started = utcnow()
        if self._since is None:
            self._since = await self._catch_up_from(started)
        since = self._since.strftime("%Y-%m-%dT%H:%M:%SZ")
        query = (
            f"WorkflowType != '{LOCK_WORKFLOW}' AND "
            f"(ExecutionStatus = 'Running' OR CloseTime >= '{since}')"
        )
        executions = [e async for e in self.client.list_workflows(query, limit=_JOBS_PER_PASS)]
        async with self.db.transaction() as session:
            known = await job_logs.cursors(session, [e.id for e in executions])
        # Queued oldest first, so that the readers, taking from the end, read the newest first.
        for execution in sorted(executions, key=_started_at):
            if execution.id in known and known[execution.id].ended:
                continue
            running = execution.status == WorkflowExecutionStatus.RUNNING
            if running:
                self.follow(execution.id)
            # A followed job (running, or recording its end) is its follower's: reading it here
            # too cost a query per pass and raced the follower's writes.
            if execution.id in self._followed:
                continue
            if execution.id in self._queued:
                # Queued while it ran (past the follower cap) and ended since: its last lines go
                # next, not after the backlog it was queued behind.
                if not running and execution.id in self._unread:
                    self._queued[execution.id] = execution
                    self._unread.remove(execution.id)
                    self._unread.append(execution.id)
                continue
            self._queued[execution.id] = execution
            self._unread.append(execution.id)
        while self._unread and len(self._readers) < _CONCURRENT_READS:
            reader = asyncio.create_task(self._read_queued(), name="job-log-reader")
            self._readers.add(reader)
            reader.add_done_callback(self._readers.discard)
        self._since = started - _CLOSE_MARGIN

    async def _read_queued(self) -> None:
        """Reads the queued jobs, the newest first, and records each at once. A read waits on a
        worker (the query; without one, its timeout): a pass waiting for all its reads held every
        job it listed, and the next pass, behind the slowest (after a worker outage, or behind the
        first pass's catch-up, minutes); newest first, a job that has just ended is read next,
        not after the backlog."""
        while self._unread and not self.ending:
            job_id = self._unread.pop()
            execution = self._queued[job_id]
            try:
                async with self.db.transaction() as session:
                    cursor = (await job_logs.cursors(session, [job_id])).get(job_id)
                if cursor is not None and cursor.ended:
                    continue
                read = await self._read(execution, cursor)
                if read is not None:
                    self._wake(await self._commit(read))
            except Exception as error:  # read again from the next pass on
                log.warning("job log lines not recorded yet", error_type=type(error).__name__)
                if execution.close_time is not None and self._since is not None:
                    self._since = min(self._since, execution.close_time - _CLOSE_MARGIN)
            finally:
                del self._queued[job_id]

    async def _catch_up_from(self, now: datetime) -> datetime:
        earliest = now - timedelta(hours=self.settings.job_log_catch_up_hours)
        async with self.db.transaction() as session:
            last = await job_logs.last_checked(session)
        if last is None:
            return earliest
        if last.tzinfo is None:  # SQLite hands times back without their zone; they are UTC
            last = last.replace(tzinfo=now.tzinfo)
        return max(earliest, last - _CLOSE_MARGIN)

    async def _read(
        self, execution: WorkflowExecution, cursor: JobLogCursor | None
    ) -> job_logs.Recorded | None:
        """What the job's log adds past its cursor; None when there is nothing new to note."""
        ended = execution.status != WorkflowExecutionStatus.RUNNING
        window, total = await self._log_of(execution)
        if window is None:
            # Neither the query nor the memo has a job log (not a job): noted once it has ended.
            if ended and cursor is None:
                return job_logs.Recorded(execution.id, [], 0, None, ended=True)
            return None
        lines, count, last = _numbered(window, total, cursor)
        if not lines and not ended:
            return None
        return job_logs.Recorded(execution.id, lines, count, last, ended=ended)

    async def _log_of(self, execution: WorkflowExecution) -> tuple[list[str] | None, int]:
        """The job's log lines (all, or its newest) and how many its log holds: from the final
        memo of a job that has ended when it holds them all, else by the query."""
        final = await _final_memo_log(execution)
        if final is not None:
            return final
        try:
            state = await self.client.get_workflow_handle(execution.id).query(
                JOB_STATE_QUERY, result_type=JobState, rpc_timeout=_QUERY_TIMEOUT
            )
            return state.logs, len(state.logs)
        except Exception:  # no worker, or not a job: the memo then
            return await _memo_log(execution)


async def _final_memo_log(execution: WorkflowExecution) -> tuple[list[str], int] | None:
    """The whole log of a job its workflow has ended, from its final memo (api/job_engine.py
    `final_memo_is_whole`); None when only the query can tell it."""
    if execution.status == WorkflowExecutionStatus.RUNNING:
        return None
    try:
        memo = JobSummaryMemo.model_validate(
            await execution.memo_value(JOB_MEMO_KEY, default=None) or {}
        )
    except Exception:  # not a job's memo, or unreadable: the query reads the job
        return None
    if not final_memo_is_whole(execution, memo):
        return None
    return memo.logs, memo.log_count


async def _memo_log(execution: WorkflowExecution) -> tuple[list[str] | None, int]:
    """The newest log lines in the job's memo and how many its log held then (None: no memo)."""
    try:
        value = await execution.memo_value(JOB_MEMO_KEY, default=None)
    except Exception:
        return None, 0
    if value is None:
        return None, 0
    memo = JobSummaryMemo.model_validate(value)
    return memo.logs, memo.log_count


@dataclass
class _Cursor:
    """How far a follower has recorded its job's log (as `JobLogCursor`, not in a session)."""

    line_count: int
    last_line: str | None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def _numbered(
    window: list[str], total: int, cursor: JobLogCursor | _Cursor | None
) -> tuple[list[tuple[int, str]], int, str | None]:
    """The window's lines past the cursor, numbered in the job's log; the new line count and last
    line. Below the workflow's bound the numbers are exact (the window ends at line `total`);
    at the bound the oldest lines have been dropped, so the place is found by the last line
    recorded."""
    done = cursor.line_count if cursor is not None else 0
    last = cursor.last_line if cursor is not None else None
    if total < MAX_LOG_LINES:
        start = total - len(window)
        lines = [(start + i, line) for i, line in enumerate(window) if start + i >= done]
        return lines, max(total, done), window[-1] if window else last
    after = 0
    if last is not None:
        for i in range(len(window) - 1, -1, -1):
            if window[i] == last:
                after = i + 1
                break
    fresh = window[after:]
    lines = [(done + i, line) for i, line in enumerate(fresh)]
    return lines, done + len(fresh), fresh[-1] if fresh else last


def _started_at(execution: WorkflowExecution) -> datetime:
    return execution.start_time or datetime.min.replace(tzinfo=UTC)
