"""How workflows call activities: by registered name, with the platform's timeouts and retry policy."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.workflow import ActivityCancellationType

T = TypeVar("T")

RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=15),
    maximum_attempts=10,
)


def _options(start_to_close: timedelta, heartbeat: timedelta | None) -> dict[str, Any]:
    return {
        "start_to_close_timeout": start_to_close,
        "heartbeat_timeout": heartbeat,
        "retry_policy": RETRY,
        # Cancellation waits until the activity has really stopped, so compensation never races a
        # step that is still creating something.
        "cancellation_type": ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    }


async def step(
    name: str,
    arg: Any,
    result_type: type[T] | None = None,
    *,
    start_to_close: timedelta = timedelta(minutes=10),
    heartbeat: timedelta | None = timedelta(seconds=5),
) -> T:
    """Runs one activity."""
    return await workflow.execute_activity(
        name, arg, result_type=result_type, **_options(start_to_close, heartbeat)
    )


async def step_to_the_end(
    name: str, arg: Any, result_type: type[T] | None = None
) -> tuple[T, bool]:
    """Runs an activity that must not be left half-done (a deletion cannot be undone or resumed
    later): a cancel that arrives meanwhile waits for it. Returns (result, cancel_requested)."""
    handle = workflow.start_activity(
        name, arg, result_type=result_type, **_options(timedelta(minutes=10), timedelta(seconds=5))
    )
    try:
        return await asyncio.shield(handle), False
    except asyncio.CancelledError:
        return await handle, True
