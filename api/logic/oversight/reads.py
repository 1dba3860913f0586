"""Pages of the audit trail and of the alerts, as the API shows them."""

from __future__ import annotations

from datetime import datetime

from api.job_engine import JobEngine
from api.logic.oversight import cursors
from api.logic.oversight.alerts import shown
from api.schemas.oversight.alerts import AlertPage, AlertStatus
from api.schemas.oversight.audit import AuditEvent, AuditPage
from api.schemas.types import as_utc
from contracts.oversight.reaper import AlertKind
from store.db import Database
from store.oversight import alerts, audit


async def audit_page(
    db: Database,
    *,
    actor: str | None,
    resource: str | None,
    since: datetime | None,
    until: datetime | None,
    cursor: str | None,
    limit: int,
) -> AuditPage:
    after = cursors.decode(cursor)
    async with db.transaction() as session:
        rows = await audit.page(
            session,
            actor=actor,
            resource=resource,
            since=as_utc(since) if since else None,
            until=as_utc(until) if until else None,
            after=after,
            # One more than shown tells whether a next page exists.
            limit=limit + 1,
        )
    items = [AuditEvent.model_validate(row, from_attributes=True) for row in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    return AuditPage(
        items=items, next_cursor=cursors.encode(last.occurred_at, last.id) if last else None
    )


async def alert_page(
    db: Database,
    jobs: JobEngine,
    *,
    status: AlertStatus | None,
    kind: AlertKind | None,
    job_id: str | None,
    cursor: str | None,
    limit: int,
) -> AlertPage:
    after = cursors.decode(cursor)
    async with db.transaction() as session:
        rows = await alerts.page(
            session,
            resolved=None if status is None else status == AlertStatus.resolved,
            kind=kind.value if kind else None,
            job_id=job_id,
            after=after,
            limit=limit + 1,
        )
    items = [shown(row, jobs) for row in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    return AlertPage(
        items=items, next_cursor=cursors.encode(last.raised_at, last.id) if last else None
    )
