"""The platform's Temporal Schedules (a system's periodic sweep: the runners' orphan cleanup, the
job reaper): created, or brought to the configured interval and to its workflow's system queue,
when the API starts; one per platform (per `task_queue` prefix), since a schedule's workflows run
where the platform's workers listen. Domain-free: each
system describes its schedule with a `PlatformSchedule`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import structlog
from pydantic import BaseModel
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from api.job_engine import step_retry_from
from contracts.jobs import JobStart
from contracts.task_queues import queue_for_workflow
from contracts.workflow_timeouts import timeouts_for
from core.settings import Settings
from temporal import search_attributes as sa

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class PlatformSchedule:
    # In log lines: "<what> schedule created".
    what: str
    # The schedule's id before the task queue prefix (`<base_id>-<task_queue setting>`: the id it
    # had when that was the platform's one queue, so an upgrade updates it in place).
    base_id: str
    workflow: str
    arg: BaseModel
    operation: str
    every_minutes: float
    # A cap on the steps' retry window below the settings' (None: the settings' own).
    max_retry_window_seconds: float | None = None

    def schedule_id(self, settings: Settings) -> str:
        return f"{self.base_id}-{settings.task_queue}"

    def build(self, settings: Settings) -> Schedule:
        retry = step_retry_from(settings, self.max_retry_window_seconds)
        return Schedule(
            action=ScheduleActionStartWorkflow(
                self.workflow,
                self.arg,
                id=f"{self.operation}-scheduled",
                task_queue=queue_for_workflow(settings.task_queue, self.workflow),
                execution_timeout=timeouts_for(self.workflow).execution,
                typed_search_attributes=TypedSearchAttributes(
                    [SearchAttributePair(sa.OPERATION, self.operation)]
                ),
                memo=JobStart(step_retry=retry).memo(),
            ),
            spec=ScheduleSpec(
                intervals=[ScheduleIntervalSpec(every=timedelta(minutes=self.every_minutes))]
            ),
            # One sweep at a time: a slow one is not piled on.
            policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        )

    async def ensure(self, client: Client, settings: Settings) -> None:
        schedule = self.build(settings)
        try:
            await client.create_schedule(self.schedule_id(settings), schedule)
            log.info(f"{self.what} schedule created", every_minutes=self.every_minutes)
        except ScheduleAlreadyRunningError:

            def update(_: ScheduleUpdateInput) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=schedule)

            await client.get_schedule_handle(self.schedule_id(settings)).update(update)

    async def ensure_in_background(self, client: Client, settings: Settings) -> None:
        """At API start: Temporal may not be up yet, and the API does not wait for it."""
        for attempt in range(30):
            try:
                await self.ensure(client, settings)
                return
            except Exception as error:  # retried: Temporal not reachable yet
                log.warning(
                    f"{self.what} schedule not set yet", error=str(error)[:200], attempt=attempt
                )
                await asyncio.sleep(min(2**attempt, 30))
