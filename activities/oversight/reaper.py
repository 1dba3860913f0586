"""The JobReaper's activities: visibility reads (which jobs are overdue, whose compensation failed,
which have ended) and the writes to `alerts` and `audit_events`. Each is idempotent: an alert is
one row per (kind, job), resolving or pruning twice changes nothing more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog
from temporalio import activity
from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from activities.alert_events import AlertEvents
from contracts.jobs import ALERT_LABEL, COMPENSATION_FAILED, JOB_MEMO_KEY, without_endpoints
from contracts.oversight.names import ReaperSteps
from contracts.oversight.reaper import (
    AlertKind,
    AlertsChanged,
    PrunedAudit,
    PrunedJobLogs,
    ReaperInput,
)
from contracts.resource_lock import LOCK_WORKFLOW
from contracts.task_queues import on_platform_queues
from contracts.workflow_timeouts import timeouts_for
from core.settings import Settings
from store import job_logs
from store.db import Database
from store.oversight import alerts, audit
from temporal import search_attributes as sa

log = structlog.get_logger(__name__)
# Jobs a sweep looks at, at most (the next sweep sees the rest once these have ended).
_MAX_JOBS = 10_000
# How far back failed compensations are looked for: well past any job's life and any pause of the
# schedule, while the listing stays bounded.
_COMPENSATION_LOOKBACK = timedelta(days=7)
# A cursor outlives the feed's catch-up window by this much (visibility's lag, a slow pass).
_CURSOR_MARGIN = timedelta(hours=1)


class ReaperActivities:
    def __init__(self, settings: Settings, db: Database, events: AlertEvents) -> None:
        self.settings = settings
        self.db = db
        # Its lazy client serves the sweeps' visibility reads too.
        self.events = events

    def all(self) -> list:
        return [
            self.raise_overdue,
            self.raise_failed_compensations,
            self.resolve_ended,
            self.prune_audit,
            self.prune_job_logs,
        ]

    async def _temporal(self) -> Client:
        return await self.events.client()

    def expected(self, workflow_type: str) -> timedelta:
        seconds = self.settings.job_expected_seconds.get(workflow_type)
        if seconds is not None:
            return timedelta(seconds=seconds)
        return timeouts_for(workflow_type).expected * self.settings.job_expected_duration_factor

    def _on_this_platform(self) -> str:
        # The jobs of this platform's task queues, every system's and the legacy one (a shared
        # Temporal namespace may hold others'). Lock workflows are left out by their namespace
        # division, which this query does not name.
        return on_platform_queues(self.settings.task_queue)

    @activity.defn(name=ReaperSteps.RAISE_OVERDUE)
    async def raise_overdue(self, _: ReaperInput) -> AlertsChanged:
        client = await self._temporal()
        now = datetime.now(UTC)
        drafts = []
        query = f"ExecutionStatus = 'Running' AND {self._on_this_platform()}"
        async for execution in client.list_workflows(query, limit=_MAX_JOBS, page_size=500):
            activity.heartbeat()
            if execution.workflow_type == LOCK_WORKFLOW or execution.start_time is None:
                continue
            expected = self.expected(execution.workflow_type)
            age = now - execution.start_time
            if age > expected:
                drafts.append(
                    _draft(
                        AlertKind.job_overdue,
                        execution,
                        f"{execution.workflow_type} job open for {_words(age)}, past its "
                        f"expected {_words(expected)}",
                    )
                )
        return await self._raise(drafts, now)

    @activity.defn(name=ReaperSteps.RAISE_FAILED_COMPENSATIONS)
    async def raise_failed_compensations(self, _: ReaperInput) -> AlertsChanged:
        client = await self._temporal()
        now = datetime.now(UTC)
        since = (now - _COMPENSATION_LOOKBACK).isoformat().replace("+00:00", "Z")
        query = (
            f"{sa.LABELS.name} = '{ALERT_LABEL}={COMPENSATION_FAILED}' "
            f"AND {self._on_this_platform()} AND StartTime > '{since}'"
        )
        drafts = []
        async for execution in client.list_workflows(query, limit=_MAX_JOBS, page_size=500):
            activity.heartbeat()
            error = await _job_error(execution)
            message = f"{execution.workflow_type} job: a compensation step failed, what the job "
            message += "made may be left behind"
            drafts.append(
                _draft(
                    AlertKind.compensation_failed,
                    execution,
                    f"{message}: {error}" if error else message,
                )
            )
        return await self._raise(drafts, now)

    async def _raise(self, drafts: list[dict], now: datetime) -> AlertsChanged:
        if not drafts:
            return AlertsChanged.of([])
        kind = drafts[0]["kind"]
        async with self.db.transaction() as session:
            raised = await alerts.raise_new(session, drafts, now)
            fresh = set(raised)
            # Raised by an earlier attempt or sweep that failed before announcing them.
            known = [d["job_id"] for d in drafts if d["job_id"] not in fresh]
            pending = set(await alerts.unannounced(session, kind, known))
        if raised:
            log.warning("alerts raised", count=len(raised), kind=kind, jobs=raised[:20])
        # After the commit: an alert rolled back is never announced.
        await self.events.job_alerts([d for d in drafts if d["job_id"] in fresh | pending])
        return AlertsChanged.of(raised)

    @activity.defn(name=ReaperSteps.RESOLVE_ENDED)
    async def resolve_ended(self, _: ReaperInput) -> AlertsChanged:
        """Asked of each job itself (visibility may lag behind its end)."""
        client = await self._temporal()
        async with self.db.transaction() as session:
            open_jobs = await alerts.open_job_ids(session, AlertKind.job_overdue.value)
        ended = []
        for job_id in open_jobs:
            activity.heartbeat()
            try:
                description = await client.get_workflow_handle(job_id).describe()
            except RPCError as error:
                if error.status != RPCStatusCode.NOT_FOUND:
                    raise
                ended.append(job_id)  # gone from Temporal (past its retention): it has ended
                continue
            if description.status != WorkflowExecutionStatus.RUNNING:
                ended.append(job_id)
        async with self.db.transaction() as session:
            await alerts.resolve(session, AlertKind.job_overdue.value, ended, datetime.now(UTC))
        return AlertsChanged.of(ended)

    @activity.defn(name=ReaperSteps.PRUNE_AUDIT)
    async def prune_audit(self, _: ReaperInput) -> PrunedAudit:
        before = datetime.now(UTC) - timedelta(days=self.settings.audit_retention_days)
        async with self.db.transaction() as session:
            deleted = await audit.prune(session, before)
        if deleted:
            log.info("audit rows pruned", count=deleted, before=before.isoformat())
        return PrunedAudit(deleted=deleted)

    @activity.defn(name=ReaperSteps.PRUNE_JOB_LOGS)
    async def prune_job_logs(self, _: ReaperInput) -> PrunedJobLogs:
        """The log stream's table (`job_log_lines`) past `job_log_retention_days`. A cursor goes
        only once its job is past any feed's catch-up window as well, so no feed records an
        ended job's lines a second time."""
        now = datetime.now(UTC)
        lines_before = now - timedelta(days=self.settings.job_log_retention_days)
        catch_up = timedelta(hours=self.settings.job_log_catch_up_hours) + _CURSOR_MARGIN
        cursors_before = min(lines_before, now - catch_up)
        async with self.db.transaction() as session:
            deleted, cursors = await job_logs.prune(session, lines_before, cursors_before)
        if deleted or cursors:
            log.info(
                "job log lines pruned",
                count=deleted,
                cursors=cursors,
                before=lines_before.isoformat(),
            )
        return PrunedJobLogs(deleted=deleted, cursors_deleted=cursors)


def _draft(kind: AlertKind, execution: WorkflowExecution, message: str) -> dict:
    return {
        "kind": kind.value,
        "job_id": execution.id,
        "workflow_type": execution.workflow_type,
        "message": message[:1000],
    }


async def _job_error(execution: WorkflowExecution) -> str | None:
    """The job's own error as its memo keeps it (already free of endpoints and secrets)."""
    try:
        memo = await execution.memo_value(JOB_MEMO_KEY, default=None) or {}
    except Exception:  # a memo this worker cannot decode: the alert goes out without it
        return None
    error = memo.get("error") if isinstance(memo, dict) else None
    return without_endpoints(str(error))[:600] if error else None


def _words(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds / 3600:.1f} h"
