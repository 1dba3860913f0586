"""How workflows call activities: by registered name, with the platform's timeouts and retry policy,
as a regular activity (a round trip through the task queue) or a local one (run by the worker
inside the workflow task that asks for it)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from typing import Any, Literal, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, RetryState
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from temporalio.exceptions import is_cancelled_exception

    from contracts.jobs import JobStart, StepRetry

T = TypeVar("T")
# A step's heartbeat timeout unless it names its own: the job's (StepRetry.heartbeat_seconds).
JOB_HEARTBEAT = "job"
Heartbeat = timedelta | None | Literal["job"]
HONOUR_CANCEL_PATCH = "cancel-swallowed-by-a-completed-step-is-honoured"
# A local step whose next attempt is further away than this waits on a durable timer (a new
# workflow task) instead of holding its workflow task open meanwhile.
LOCAL_RETRY_THRESHOLD = timedelta(seconds=5)
# True while compensation runs: its steps must run to the end although the job was cancelled.
_undoing: ContextVar[bool] = ContextVar("undoing", default=False)
# True once a step run to the end took a cancel in: the job has chosen to finish, not to stop.
_cancel_absorbed: ContextVar[bool] = ContextVar("cancel_absorbed", default=False)


@contextmanager
def undoing() -> Iterator[None]:
    token = _undoing.set(True)
    try:
        yield
    finally:
        _undoing.reset(token)


def _honour_cancel() -> None:
    """A step cancelled while its activity finishes anyway returns the activity's result: the SDK
    waits for the activity (WAIT_CANCELLATION_COMPLETED) and the cancellation is used up. The job
    must still stop before its next step and undo what it did, so the cancel is raised again."""
    if (
        workflow.cancellation_reason() is not None
        and not _undoing.get()
        and not _cancel_absorbed.get()
        and workflow.patched(HONOUR_CANCEL_PATCH)
    ):
        raise asyncio.CancelledError("cancelled by request")


def job_start() -> JobStart:
    """What this job was given at its start (its memo)."""
    return JobStart.from_memo(lambda key: workflow.memo_value(key, default=None))


def _retry() -> tuple[RetryPolicy, timedelta, timedelta]:
    """Transient failures are retried for a time, not a number of attempts: an outage of the
    outside API outlasts any fixed count of quick retries. Final errors (non_retryable) stop at
    once. The window bounds all of a step's attempts together (schedule-to-close). Also the job's
    heartbeat timeout: how soon an attempt on a lost worker is given to another."""
    retry = job_start().step_retry or StepRetry()
    policy = RetryPolicy(
        initial_interval=timedelta(seconds=retry.initial_interval_seconds),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=retry.maximum_interval_seconds),
        maximum_attempts=0,
    )
    return (
        policy,
        timedelta(seconds=retry.window_seconds),
        timedelta(seconds=retry.heartbeat_seconds),
    )


def _options(
    start_to_close: timedelta, heartbeat: Heartbeat, long_wait: bool = False
) -> dict[str, Any]:
    policy, window, job_heartbeat = _retry()
    if heartbeat == JOB_HEARTBEAT:
        heartbeat = job_heartbeat
    if long_wait:
        # One attempt may outlast the retry window (a runner waiting hours for its GitHub job, a
        # first build): it keeps its whole time, and the window bounds the retries after it.
        # Clamped to the window, it timed out long before its work could end.
        return {
            **_common(policy, heartbeat),
            "start_to_close_timeout": start_to_close,
            "schedule_to_close_timeout": start_to_close + window,
        }
    return {
        **_common(policy, heartbeat),
        "start_to_close_timeout": min(start_to_close, window),
        "schedule_to_close_timeout": window,
    }


def job_heartbeat(at_least: timedelta) -> timedelta:
    """The job's heartbeat timeout, or `at_least` for a step whose activity heartbeats less often
    (one that polls every few seconds)."""
    return max(_retry()[2], at_least)


def _local_options(
    start_to_close: timedelta, retry_threshold: timedelta | None = None
) -> dict[str, Any]:
    policy, window, _ = _retry()
    return {
        "start_to_close_timeout": min(start_to_close, window),
        "schedule_to_close_timeout": window,
        "retry_policy": policy,
        "local_retry_threshold": retry_threshold or LOCAL_RETRY_THRESHOLD,
        "cancellation_type": ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    }


def _common(policy: RetryPolicy, heartbeat: timedelta | None) -> dict[str, Any]:
    return {
        "heartbeat_timeout": heartbeat,
        "retry_policy": policy,
        # Cancellation waits until the activity has really stopped, so compensation never races a
        # step that is still creating something.
        "cancellation_type": ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    }


async def step(
    name: str,
    arg: Any,
    result_type: type[T] | None = None,
    *,
    start_to_close: timedelta,
    heartbeat: Heartbeat = JOB_HEARTBEAT,
    long_wait: bool = False,
    may_hold: bool = True,
    task_queue: str | None = None,
    local: bool = False,
    retry_threshold: timedelta | None = None,
) -> T:
    """Runs one activity. `start_to_close` bounds one attempt: chosen per step for its work (a
    registry write 30 s, a Cloud Run apply 10 min); tests/oversight/test_timeouts.py checks every
    call says. In a job started with `on_failure: hold`, a failure for good (final error, or the
    retry window spent) holds the job instead of raising, and an operator's `retry` runs the
    activity again here, so the steps before it are not run twice. `may_hold=False` for a step
    whose failure the workflow handles itself. `task_queue`: another system's queue, for a step
    of that system (None: the job's own queue, where its own system's activities are).

    `local=True`: a short step (a database read or write, a call of a second or so) run as a local
    activity, in the workflow task that reaches it: no task-queue round trip and no workflow task
    of its own, its result recorded as a marker when that task completes. The same retry policy
    and window; no heartbeat (a worker lost during it fails the whole workflow task, which runs
    again elsewhere and runs the step again: it must be idempotent, as every step is).
    `retry_threshold`: a local step's next attempt further away than this waits on a durable timer
    (LOCAL_RETRY_THRESHOLD by default); under a second keeps each attempt within one workflow
    task, for a step whose undo must know of every attempt that may have written."""
    if local:
        assert task_queue is None and not long_wait, "a local step runs on the job's own worker"
    while True:
        try:
            if local:
                result = await workflow.execute_local_activity(
                    name,
                    arg,
                    result_type=result_type,
                    **_local_options(start_to_close, retry_threshold),
                )
            else:
                result = await workflow.execute_activity(
                    name,
                    arg,
                    result_type=result_type,
                    task_queue=task_queue,
                    **_options(start_to_close, heartbeat, long_wait),
                )
        except ActivityError as error:
            if not may_hold or not await _held(name, error):
                raise
            continue
        _honour_cancel()
        return result


async def _held(name: str, error: ActivityError) -> bool:
    """Whether the job held on this failure and the operator chose to retry the step."""
    hold = getattr(workflow.instance(), "failure_hold", None)
    if (
        hold is None
        or _undoing.get()
        or is_cancelled_exception(error)
        or error.retry_state == RetryState.CANCEL_REQUESTED
        or workflow.cancellation_reason() is not None
    ):
        return False
    return await hold.wait(name, error)


async def step_to_the_end(
    name: str, arg: Any, result_type: type[T] | None = None, *, start_to_close: timedelta
) -> tuple[T, bool]:
    """Runs an activity that must not be left half-done (a deletion cannot be undone or resumed
    later): a cancel that arrives meanwhile waits for it, and the job then runs to its end (later
    steps no longer stop for that cancel). Returns (result, cancel_requested)."""
    handle = workflow.start_activity(
        name, arg, result_type=result_type, **_options(start_to_close, JOB_HEARTBEAT)
    )
    try:
        return await asyncio.shield(handle), False
    except asyncio.CancelledError:
        _cancel_absorbed.set(True)
        return await handle, True
