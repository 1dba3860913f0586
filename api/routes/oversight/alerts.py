"""Alerts (read scope): jobs open past their expected duration, and failed compensations, as the
JobReaper schedule raised them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query

from api.auth import Reader, Writer
from api.deps import DbDep, JobEngineDep
from api.errors import answers
from api.http import JsonRouter
from api.logic.oversight import alerts, reads
from api.schemas.oversight.alerts import Alert, AlertPage, AlertStatus
from contracts.oversight.reaper import AlertKind

router = JsonRouter(prefix="/api/v1/alerts", tags=["alerts"], responses=answers(401, 403))


@router.get("", response_model=AlertPage, responses=answers(400))
async def list_alerts(
    _: Reader,
    db: DbDep,
    jobs: JobEngineDep,
    status: AlertStatus | None = None,
    kind: AlertKind | None = None,
    job_id: Annotated[
        str | None,
        Query(
            pattern=r"^[A-Za-z0-9_.:/-]{1,200}$",
            description="A job's id, or a `resource_drifted` alert's drift key.",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=200, description="The `next_cursor` of the previous page.")
    ] = None,
) -> AlertPage:
    """Newest first."""
    return await reads.alert_page(
        db, jobs, status=status, kind=kind, job_id=job_id, cursor=cursor, limit=limit
    )


@router.post("/{alert_id}/resolve", response_model=Alert, responses=answers(404, 409))
async def resolve_alert(alert_id: uuid.UUID, _: Writer, db: DbDep, jobs: JobEngineDep) -> Alert:
    """Marks an alert resolved by hand: a failed compensation once what the job left is cleaned
    up (overdue alerts resolve themselves when their job ends). Say why in `X-Audit-Reason`."""
    return await alerts.resolve(db, jobs, alert_id)
