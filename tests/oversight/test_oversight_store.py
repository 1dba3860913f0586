"""The alerts and audit tables on SQLite and on PostgreSQL (production's Supabase Postgres):
alerts raised once per (kind, job) and resolved once, audit pages that do not shift, pruning."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from store.oversight import alerts, audit
from tests.helpers.postgres import migrated_postgres


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request, db):
    if request.param == "sqlite":
        yield db
        return
    async with migrated_postgres("oversight") as pg:
        yield pg


async def test_an_alert_is_raised_once_per_kind_and_job_and_resolved_once(database):
    job = f"deploy-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    draft = {"kind": "job_overdue", "job_id": job, "workflow_type": "DeployService", "message": "m"}
    other = {**draft, "kind": "compensation_failed"}
    async with database.transaction() as session:
        assert await alerts.raise_new(session, [draft, other], now) == [job, job]
    async with database.transaction() as session:
        assert await alerts.raise_new(session, [draft], now + timedelta(minutes=5)) == []
        assert job in await alerts.open_job_ids(session, "job_overdue")
        await alerts.resolve(session, "job_overdue", [job], now + timedelta(minutes=9))
    async with database.transaction() as session:
        await alerts.resolve(session, "job_overdue", [job], now + timedelta(hours=1))
        rows = await alerts.page(
            session, resolved=True, kind="job_overdue", job_id=job, after=None, limit=10
        )
        assert len(rows) == 1
        resolved_at = rows[0].resolved_at.replace(tzinfo=rows[0].resolved_at.tzinfo or UTC)
        assert resolved_at == now + timedelta(minutes=9)
        assert job not in await alerts.open_job_ids(session, "job_overdue")
        still_open = await alerts.page(
            session, resolved=False, kind=None, job_id=job, after=None, limit=10
        )
        assert [row.kind for row in still_open] == ["compensation_failed"]


async def test_audit_pages_follow_their_cursor_and_old_rows_are_pruned(database):
    actor = f"actor-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    rows = [
        {
            "id": uuid.uuid4(),
            "occurred_at": now - timedelta(days=days),
            "actor_key_id": None,
            "actor_name": actor,
            "request_id": f"r{days}",
            "method": "POST",
            "path": "/api/v1/jobs/x/cancel",
            "resource": f"jobs/x{days}",
            "comment": None,
            "status_code": 202,
            "job_id": None,
        }
        for days in (0, 1, 2, 100)
    ]
    async with database.transaction() as session:
        await audit.insert_many(session, rows)
    async with database.transaction() as session:
        first = await audit.page(
            session, actor=actor, resource="jobs", since=None, until=None, after=None, limit=2
        )
        assert [r.request_id for r in first] == ["r0", "r1"]
        after = (first[-1].occurred_at, first[-1].id)
        second = await audit.page(
            session, actor=actor, resource=None, since=None, until=None, after=after, limit=2
        )
        assert [r.request_id for r in second] == ["r2", "r100"]
        assert await audit.prune(session, now - timedelta(days=90)) >= 1
    async with database.transaction() as session:
        left = await audit.page(
            session, actor=actor, resource=None, since=None, until=None, after=None, limit=10
        )
        assert [r.request_id for r in left] == ["r0", "r1", "r2"]
