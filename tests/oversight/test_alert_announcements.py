"""An alert's webhook event is not lost when the activity that raised it fails before publishing
it: until it is marked announced, the reaper's next sweep (`alerts.unannounced`) and the drift
observer's next look at the same drift (`resource_states.observed`) answer it again; once marked,
nothing. On SQLite and on PostgreSQL."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from contracts.provisioning.drift import (
    RESOURCE_DRIFTED,
    SERVICE_KIND,
    Condition,
    ConditionType,
    DriftEntry,
)
from store.oversight import alerts, resource_states
from tests.helpers.postgres import migrated_postgres


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request, db):
    if request.param == "sqlite":
        yield db
        return
    async with migrated_postgres("announce") as pg:
        yield pg


async def test_a_job_alert_is_unannounced_until_marked_and_never_once_resolved(database):
    jobs = [f"deploy-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    now = datetime.now(UTC)
    drafts = [
        {"kind": "job_overdue", "job_id": job, "workflow_type": "DeployService", "message": "m"}
        for job in jobs
    ]
    async with database.transaction() as session:
        assert await alerts.raise_new(session, drafts, now) == jobs
    async with database.transaction() as session:
        assert sorted(await alerts.unannounced(session, "job_overdue", jobs)) == sorted(jobs)
        await alerts.announced(session, "job_overdue", [jobs[0]], now)
        await alerts.resolve(session, "job_overdue", [jobs[1]], now)
    async with database.transaction() as session:
        assert await alerts.unannounced(session, "job_overdue", jobs) == [jobs[2]]
        assert await alerts.unannounced(session, "compensation_failed", jobs) == []


async def test_a_drift_alert_is_answered_again_until_announced(database):
    name = f"svc-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    drift = [DriftEntry(field="secrets.TOKEN", applied="tok-a:1", live="tok-b:2")]
    conditions = [
        Condition(type=ConditionType.drifted, status="True", reason="LiveDiffers"),
    ]

    async def observe(at: datetime):
        async with database.transaction() as session:
            row = await resource_states.get(session, SERVICE_KIND, name, for_update=True)
            return await resource_states.observed(
                session, row, conditions, drift, at, workflow_type="ObserveDrift"
            )

    async with database.transaction() as session:
        await resource_states.record_applied(
            session,
            kind=SERVICE_KIND,
            name=name,
            region=None,
            tenant="acme",
            applied="{}",
            job_id="deploy-x",
            at=now,
        )
    first = await observe(now)
    assert first is not None and first.fresh
    assert (first.resource, first.tenant) == (f"service/{name}", "acme")
    assert first.drift == [{"field": "secrets.TOKEN", "applied": "tok-a:1", "live": "tok-b:2"}]

    # Its activity failed before the announcement went out: the next look answers it again.
    again = await observe(now + timedelta(minutes=5))
    assert again == dataclasses.replace(first, fresh=False)

    async with database.transaction() as session:
        await alerts.announced(session, RESOURCE_DRIFTED, [first.key], now)
    assert await observe(now + timedelta(minutes=10)) is None
