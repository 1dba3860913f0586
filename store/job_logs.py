"""The recorded job log lines (`job_log_lines`) and how far each job's log is recorded
(`job_log_cursors`): what the log stream reads, by offset (the line's id).

Ids must appear in commit order, or a reader that has seen id N could later miss a line given a
smaller id by a transaction that committed after its read. SQLite has one writer at a time; on
PostgreSQL every recording transaction first takes the same transaction-scoped advisory lock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, text
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


async def record(
    session: AsyncSession, reads: Sequence[Recorded], added_rows: list[JobLogLine] | None = None
) -> int:
    """Appends the new lines (a line already recorded, by another API process, is skipped) and
    moves the cursors; returns how many lines were added (and puts them, with their ids, in
    `added_rows` when given)."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _RECORDING_LOCK})
    known = await cursors(session, [read.job_id for read in reads])
    now = utcnow()
    added = 0
    for read in reads:
        cursor = known.get(read.job_id)
        done = cursor.line_count if cursor is not None else 0
        fresh = [(no, line) for no, line in read.lines if no >= done]
        for line_no, line in fresh:
            row = JobLogLine(job_id=read.job_id, line_no=line_no, line=line, recorded_at=now)
            session.add(row)
            if added_rows is not None:
                added_rows.append(row)
        added += len(fresh)
        if cursor is None:
            cursor = JobLogCursor(job_id=read.job_id, line_count=0)
            session.add(cursor)
        if read.line_count >= cursor.line_count:
            cursor.line_count = read.line_count
            cursor.last_line = read.last_line
        cursor.ended = cursor.ended or read.ended
        cursor.checked_at = now
    await session.flush()
    if added and session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})
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
