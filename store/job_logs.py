"""The recorded job log lines (`job_log_lines`) and how far each job's log is recorded
(`job_log_cursors`): what the log stream reads, by offset (the line's id).

Ids must appear in commit order, or a reader that has seen id N could later miss a line given a
smaller id by a transaction that committed after its read. SQLite has one writer at a time; on
PostgreSQL every recording transaction first takes the same transaction-scoped advisory lock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import JobLogCursor, JobLogLine, utcnow

# The advisory lock's key: any constant no other part of the platform uses.
_RECORDING_LOCK = 0x6A6F626C6F67
# On PostgreSQL a recording that adds lines notifies this channel as it commits: every API
# process's log stream reader (api/job_log_fanout.py) listens and reads them at once.
NOTIFY_CHANNEL = "job_log_lines"


@dataclass(frozen=True)
class Recorded:
    """What one read of a job's log adds: its new lines, numbered in the job's log."""

    job_id: str
    lines: list[tuple[int, str]]
    line_count: int
    last_line: str | None
    ended: bool


async def cursors(session: AsyncSession, job_ids: Sequence[str]) -> dict[str, JobLogCursor]:
    if not job_ids:
        return {}
    rows = await session.scalars(select(JobLogCursor).where(JobLogCursor.job_id.in_(job_ids)))
    return {row.job_id: row for row in rows}


async def last_checked(session: AsyncSession) -> datetime | None:
    """When any job's log was last read: where a feed starting afresh catches up from."""
    return await session.scalar(select(func.max(JobLogCursor.checked_at)))


@dataclass(frozen=True)
class AddedLine:
    """A line `record` added, with its id."""

    id: int
    job_id: str
    line_no: int
    line: str


def record(connection: Connection, reads: Sequence[Recorded]) -> list[AddedLine]:
    """Appends the new lines (a line already recorded, by another API process, is skipped) and
    moves the cursors; returns the lines added, with their ids. Run by `Database.write` (Core, one
    transaction): on SQLite, on the process's one writer thread, one hand-off queued behind the
    process's other writes there. Through an async session it took a round trip to an aiosqlite
    thread per statement, and SQLite's busy handler (sleeps of up to 100 ms) when two of the
    process's connections wrote at once: on a loaded machine a quarter to half of the log
    stream's slow lines' time (docs/benchmarks.md)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _RECORDING_LOCK})
    lines, cursors_table = JobLogLine.__table__, JobLogCursor.__table__
    known = {
        row.job_id: row
        for row in connection.execute(
            select(cursors_table).where(cursors_table.c.job_id.in_([r.job_id for r in reads]))
        )
    }
    now = utcnow()
    added: list[AddedLine] = []
    for read in reads:
        cursor = known.get(read.job_id)
        done = cursor.line_count if cursor is not None else 0
        for line_no, line in read.lines:
            if line_no < done:
                continue
            inserted = connection.execute(
                insert(lines).values(
                    job_id=read.job_id, line_no=line_no, line=line, recorded_at=now
                )
            )
            added.append(AddedLine(inserted.inserted_primary_key[0], read.job_id, line_no, line))
        if cursor is None:
            connection.execute(
                insert(cursors_table).values(
                    job_id=read.job_id,
                    line_count=read.line_count,
                    last_line=read.last_line,
                    ended=read.ended,
                    checked_at=now,
                )
            )
            continue
        moved = {"ended": cursor.ended or read.ended, "checked_at": now}
        if read.line_count >= cursor.line_count:
            moved |= {"line_count": read.line_count, "last_line": read.last_line}
        connection.execute(
            update(cursors_table).where(cursors_table.c.job_id == read.job_id).values(**moved)
        )
    if added and connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})
    return added


async def newest_id(session: AsyncSession) -> int:
    return await session.scalar(select(func.coalesce(func.max(JobLogLine.id), 0))) or 0


async def lines_after(
    session: AsyncSession, after: int, job_id: str | None, limit: int
) -> list[JobLogLine]:
    query = select(JobLogLine).where(JobLogLine.id > after)
    if job_id is not None:
        query = query.where(JobLogLine.job_id == job_id)
    return list((await session.scalars(query.order_by(JobLogLine.id).limit(limit))).all())


async def prune(
    session: AsyncSession, lines_before: datetime, cursors_before: datetime
) -> tuple[int, int]:
    """Deletes the lines recorded before `lines_before`, and the cursors of jobs that had ended
    when last read before `cursors_before` (the caller keeps that older than any job a feed may
    still list, or an ended job would be recorded again). Ids are never reused (a sequence; SQLite
    AUTOINCREMENT), so a stream that resumes from a pruned id continues with the oldest line kept.
    Core deletes: nothing is loaded, and SQLite's naive times are compared by the database."""
    lines = JobLogLine.__table__
    cursors_table = JobLogCursor.__table__
    deleted = await session.execute(delete(lines).where(lines.c.recorded_at < lines_before))
    gone = await session.execute(
        delete(cursors_table).where(
            cursors_table.c.ended.is_(True), cursors_table.c.checked_at < cursors_before
        )
    )
    return deleted.rowcount or 0, gone.rowcount or 0
