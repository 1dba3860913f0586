"""The Temporal Schedule that runs the JobReaper every `job_reaper_interval_minutes`: overdue jobs
and failed compensations become alerts, ended jobs resolve theirs, old audit rows go. Created (or
brought to the configured interval) when the API starts; one per task queue, since the reaper
looks at the jobs of its own task queue."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog
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

from contracts.jobs import STEP_RETRY_MEMO_KEY, StepRetry
from contracts.oversight.names import REAPER_SCHEDULE_ID, Operations, Workflows
from contracts.oversight.reaper import ReaperInput
from contracts.workflow_timeouts import timeouts_for
from core.settings import Settings
from temporal import search_attributes as sa

log = structlog.get_logger(__name__)


def schedule_id(settings: Settings) -> str:
    return f"{REAPER_SCHEDULE_ID}-{settings.task_queue}"


def _schedule(settings: Settings) -> Schedule:
    # Its steps are reads and writes of the platform's own stores: a short retry window, so a
    # sweep that cannot finish leaves room for the next one.
    retry = StepRetry(
        window_seconds=min(settings.step_retry_minutes * 60, 120),
        initial_interval_seconds=settings.step_retry_initial_seconds,
        maximum_interval_seconds=settings.step_retry_max_interval_seconds,
    )
    return Schedule(
        action=ScheduleActionStartWorkflow(
            Workflows.JOB_REAPER,
            ReaperInput(),
            id=f"{Operations.JOB_REAPER}-scheduled",
            task_queue=settings.task_queue,
            execution_timeout=timeouts_for(Workflows.JOB_REAPER).execution,
            typed_search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(sa.OPERATION, Operations.JOB_REAPER),
                    SearchAttributePair(sa.JOB_PHASE, "queued"),
                ]
            ),
            memo={STEP_RETRY_MEMO_KEY: retry.model_dump()},
        ),
        spec=ScheduleSpec(
            intervals=[
                ScheduleIntervalSpec(every=timedelta(minutes=settings.job_reaper_interval_minutes))
            ]
        ),
        # One sweep at a time: a slow one is not piled on, and alerts are never raised twice.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_reaper_schedule(client: Client, settings: Settings) -> None:
    schedule = _schedule(settings)
    try:
        await client.create_schedule(schedule_id(settings), schedule)
        log.info("job reaper schedule created", every_minutes=settings.job_reaper_interval_minutes)
    except ScheduleAlreadyRunningError:

        def update(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id(settings)).update(update)


async def ensure_in_background(client: Client, settings: Settings) -> None:
    """At API start: Temporal may not be up yet, and the API does not wait for it."""
    for attempt in range(30):
        try:
            await ensure_reaper_schedule(client, settings)
            return
        except Exception as error:  # retried: Temporal not reachable yet
            log.warning("job reaper schedule not set yet", error=str(error)[:200], attempt=attempt)
            await asyncio.sleep(min(2**attempt, 30))
