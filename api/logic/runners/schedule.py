"""The Temporal Schedule that runs RunnerCleanup every `runner_cleanup_interval_minutes`, so orphans
never pile up. Created (or brought to the configured interval) when the API starts; one per task
queue, since the schedule's workflows run where the platform's worker listens."""

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
from contracts.runners.names import CLEANUP_SCHEDULE_ID, Operations, Workflows
from contracts.runners.runners import CleanupInput
from contracts.workflow_timeouts import timeouts_for
from core.settings import Settings
from temporal import search_attributes as sa

log = structlog.get_logger(__name__)


def schedule_id(settings: Settings) -> str:
    return f"{CLEANUP_SCHEDULE_ID}-{settings.task_queue}"


def _schedule(settings: Settings) -> Schedule:
    retry = StepRetry(
        window_seconds=settings.step_retry_minutes * 60,
        initial_interval_seconds=settings.step_retry_initial_seconds,
        maximum_interval_seconds=settings.step_retry_max_interval_seconds,
    )
    return Schedule(
        action=ScheduleActionStartWorkflow(
            Workflows.RUNNER_CLEANUP,
            CleanupInput(),
            id=f"{Operations.RUNNER_CLEANUP}-scheduled",
            task_queue=settings.task_queue,
            execution_timeout=timeouts_for(Workflows.RUNNER_CLEANUP).execution,
            typed_search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(sa.OPERATION, Operations.RUNNER_CLEANUP),
                    SearchAttributePair(sa.JOB_PHASE, "queued"),
                ]
            ),
            memo={STEP_RETRY_MEMO_KEY: retry.model_dump()},
        ),
        spec=ScheduleSpec(
            intervals=[
                ScheduleIntervalSpec(
                    every=timedelta(minutes=settings.runner_cleanup_interval_minutes)
                )
            ]
        ),
        # One sweep at a time: a slow one is not piled on.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def ensure_cleanup_schedule(client: Client, settings: Settings) -> None:
    schedule = _schedule(settings)
    try:
        await client.create_schedule(schedule_id(settings), schedule)
        log.info(
            "runner cleanup schedule created",
            every_minutes=settings.runner_cleanup_interval_minutes,
        )
    except ScheduleAlreadyRunningError:

        def update(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id(settings)).update(update)


async def ensure_in_background(client: Client, settings: Settings) -> None:
    """At API start: Temporal may not be up yet, and the API does not wait for it."""
    for attempt in range(30):
        try:
            await ensure_cleanup_schedule(client, settings)
            return
        except Exception as error:  # retried: Temporal not reachable yet
            log.warning(
                "runner cleanup schedule not set yet", error=str(error)[:200], attempt=attempt
            )
            await asyncio.sleep(min(2**attempt, 30))
