"""The reaper prunes the log stream's table (`job_log_lines`) past `job_log_retention_days`, and
the cursors of ended jobs no feed will read again; a stream resumed from a pruned id goes on with
the oldest line kept."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from temporalio.client import Client

from api.logic.oversight.schedule import schedule_id
from store.models import JobLogCursor, JobLogLine
from tests.helpers.log_stream import JobLines


async def test_the_reaper_prunes_job_log_lines_past_their_retention(
    hosting, db, client: Client, settings
):
    now = datetime.now(UTC)
    old_job, recent_job = f"old-{uuid.uuid4().hex[:8]}", f"recent-{uuid.uuid4().hex[:8]}"
    old_at = now - timedelta(days=settings.job_log_retention_days + 1)
    recent_at = now - timedelta(days=settings.job_log_retention_days - 1)
    async with db.transaction() as session:
        for job_id, at in ((old_job, old_at), (recent_job, recent_at)):
            session.add_all(
                JobLogLine(job_id=job_id, line_no=n, line=f"line {n}", recorded_at=at)
                for n in range(3)
            )
            session.add(JobLogCursor(job_id=job_id, line_count=3, ended=True, checked_at=at))
    async with db.transaction() as session:
        oldest = await session.scalar(
            select(JobLogLine.id).where(JobLogLine.job_id == old_job).order_by(JobLogLine.id)
        )

    handle = client.get_schedule_handle(schedule_id(settings))
    for _ in range(100):  # the API creates the schedule in the background as it starts
        try:
            await handle.describe()
            break
        except Exception:
            await asyncio.sleep(0.1)
    await handle.trigger()
    for _ in range(300):
        async with db.transaction() as session:
            left = (
                await session.scalars(
                    select(JobLogLine.job_id).where(JobLogLine.job_id.in_([old_job, recent_job]))
                )
            ).all()
            cursors = (
                await session.scalars(
                    select(JobLogCursor.job_id).where(
                        JobLogCursor.job_id.in_([old_job, recent_job])
                    )
                )
            ).all()
        if old_job not in left:
            break
        await asyncio.sleep(0.1)
    assert sorted(left) == [recent_job] * 3
    assert cursors == [recent_job]

    # A client that last saw a pruned line resumes with the oldest line kept.
    headers = {"Last-Event-ID": str(oldest)}
    params = {"job_id": recent_job}
    async with hosting.stream("GET", "/logs/stream", headers=headers, params=params) as response:
        reader = JobLines(response, recent_job)
        try:
            got = await reader.until(3)
        finally:
            await reader.close()
    assert [g["line_no"] for g in got] == [0, 1, 2]
