"""The jobs that wait for someone, on the API's `/metrics`: `conneskills_jobs_held` (jobs held in
`needs_attention` after a step failed) and `conneskills_jobs_overdue{workflow_type}` (open
`job_overdue` alerts: jobs the reaper found running past their type's expected duration).

Both are counts over the whole platform (its task queues' jobs in Temporal visibility; the alerts
table), refreshed every `metrics_job_gauges_seconds` in the background rather than at each scrape,
so a scrape never waits on Temporal or the database. Every API replica reports the same numbers:
aggregate them with `max`, not `sum`."""

from __future__ import annotations

import asyncio

import structlog
from prometheus_client import Gauge
from temporalio.client import Client

from api.metrics import PlatformMetrics
from contracts.jobs import NEEDS_ATTENTION
from contracts.oversight.reaper import AlertKind
from contracts.task_queues import on_platform_queues
from core.settings import Settings
from store.db import Database
from store.oversight import alerts
from temporal import search_attributes as sa

log = structlog.get_logger(__name__)


class JobGauges:
    def __init__(
        self, metrics: PlatformMetrics, temporal: Client, db: Database, settings: Settings
    ) -> None:
        self.temporal, self.db, self.settings = temporal, db, settings
        self.held = Gauge(
            "conneskills_jobs_held",
            "Jobs held in needs_attention (a step failed; waiting for a retry or a rollback).",
            registry=metrics.registry,
        )
        self.overdue = Gauge(
            "conneskills_jobs_overdue",
            "Open job_overdue alerts by workflow type: jobs running past their expected duration.",
            ["workflow_type"],
            registry=metrics.registry,
        )
        self._overdue_types: set[str] = set()
        self.held_query = (
            f"ExecutionStatus = 'Running' AND {sa.JOB_PHASE.name} = '{NEEDS_ATTENTION}' AND "
            f"{on_platform_queues(settings.task_queue)}"
        )

    async def refresh(self) -> None:
        held = (await self.temporal.count_workflows(self.held_query)).count
        async with self.db.sessions() as session:
            overdue = await alerts.open_counts(session, AlertKind.job_overdue.value)
        self.held.set(held)
        # A type whose last overdue alert was resolved reads 0 (its series kept, not dropped).
        self._overdue_types |= set(overdue)
        for workflow_type in self._overdue_types:
            self.overdue.labels(workflow_type=workflow_type).set(overdue.get(workflow_type, 0))

    async def refresh_forever(self) -> None:
        while True:
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Temporal or the database away: keep the last values
                log.warning("job gauges not refreshed", error_type=type(error).__name__)
            await asyncio.sleep(self.settings.metrics_job_gauges_seconds)
