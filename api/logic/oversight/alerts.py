"""An alert as the API shows it, and an operator resolving one (a failed compensation has no end
the reaper could see: someone cleans up what the job left, then says so)."""

from __future__ import annotations

import uuid

from api import audit_trail
from api.errors import ApiError, not_found
from api.job_engine import JobEngine
from api.schemas.oversight.alerts import Alert, AlertStatus
from contracts.oversight.reaper import AlertKind
from store.db import Database
from store.models import utcnow
from store.oversight import alerts
from store.oversight.models import Alert as AlertRow


def shown(row: AlertRow, jobs: JobEngine) -> Alert:
    about_job = row.resource is None
    return Alert(
        id=row.id,
        kind=AlertKind(row.kind),
        status=AlertStatus.resolved if row.resolved_at else AlertStatus.open,
        job_id=row.job_id,
        resource=row.resource,
        workflow_type=row.workflow_type,
        message=row.message,
        raised_at=row.raised_at,
        resolved_at=row.resolved_at,
        job_url=f"{jobs.settings.public_api_url.rstrip('/')}/api/v1/jobs/{row.job_id}"
        if about_job
        else None,
        temporal_ui_url=jobs.ui_url(row.job_id) if about_job else None,
    )


async def resolve(db: Database, jobs: JobEngine, alert_id: uuid.UUID) -> Alert:
    async with db.transaction() as session:
        row = await alerts.get(session, alert_id)
        if row is None:
            raise not_found("alert", alert_id=str(alert_id))
        audit_trail.note(job_id=row.job_id if row.resource is None else None)
        if row.resolved_at is not None:
            raise ApiError(
                409,
                "this alert is already resolved",
                details={"alert_id": str(alert_id), "resolved_at": row.resolved_at},
            )
        row.resolved_at = utcnow()
        return shown(row, jobs)
