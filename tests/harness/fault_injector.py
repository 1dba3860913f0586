"""The harness's worker interceptor: makes one step of one job fail, or holds it, on the harness's
own worker only. Which step, and how, comes from a small JSON file the harness rewrites between
cases (path in HARNESS_FAULT_FILE), so one worker process serves many cases without a restart.

The file: {"arm": "<case id>", "workflow": "<workflow type>", "activity": "<activity type>",
"occurrence": n, "mode": "fail_before" | "fail_after" | "hold", "noop": ["<activity type>", ...],
"release": "<case id>" once the harness has cancelled the job and lets a held step go on}.
`occurrence` counts the activities of that type in one run of that workflow type (0 = the first),
so retries of one activity are the same occurrence. `noop` activities return None without running:
the teeth check makes one undo a no-op that still reports ok, as the leak it must catch did."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

FAULT_FILE_ENV = "HARNESS_FAULT_FILE"
# What a held step heartbeats at: well inside the suite's 2.5 s step heartbeat timeout.
HOLD_BEAT_SECONDS = 0.3
INJECTED = "harness: injected final failure"


def read_fault(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text() or "{}")
    except FileNotFoundError:
        return {}


def held_marker(path: Path) -> Path:
    """Written when the held step has started: the harness then cancels or kills."""
    return path.with_suffix(".held")


def write_fault(path: Path, fault: dict[str, Any]) -> None:
    held_marker(path).unlink(missing_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(fault))
    # Atomic: the worker reads either the old fault or the new one.
    os.replace(tmp, path)


class _Occurrences:
    """Which occurrence of its type, within its workflow run, an activity is."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str, str], list[str]] = {}

    def of(self, info: activity.Info) -> int:
        key = (info.workflow_id or "", info.workflow_run_id or "", info.activity_type)
        ids = self._seen.setdefault(key, [])
        if info.activity_id not in ids:
            ids.append(info.activity_id)
        return ids.index(info.activity_id)


class _InjectFaults(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, injector: FaultInjector) -> None:
        super().__init__(next)
        self._injector = injector

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        fault = read_fault(self._injector.path)
        occurrence = self._injector.occurrences.of(info)
        if info.activity_type in fault.get("noop", ()):
            return None
        if not self._injector.matches(fault, info, occurrence):
            return await self.next.execute_activity(input)
        mode = fault["mode"]
        if mode == "fail_before":
            raise ApplicationError(f"{INJECTED} before the step", non_retryable=True)
        if mode == "fail_after":
            await self.next.execute_activity(input)
            raise ApplicationError(f"{INJECTED} after the step", non_retryable=True)
        # hold: heartbeat until the job is cancelled (or the worker killed), then do the step's
        # work and report the cancel: the step's side effect happened although the job sees a
        # cancelled step, the harder case for compensation.
        held_marker(self._injector.path).write_text(info.workflow_id or "")
        await _hold_until_cancelled(self._injector.path, fault["arm"])
        await self.next.execute_activity(input)
        raise asyncio.CancelledError("harness: cancelled while the step ran")


async def _hold_until_cancelled(path: Path, arm: str) -> None:
    """Until the activity is cancelled, or the harness releases it: a step the job runs to the end
    (a deletion) is never cancelled, the job's cancel waits for it."""
    while not activity.is_cancelled() and read_fault(path).get("release") != arm:
        # The attempt's own details again: a step resumes from them after a kill (an operation
        # name), so the hold must not replace them.
        activity.heartbeat(*activity.info().heartbeat_details)
        try:
            await asyncio.sleep(HOLD_BEAT_SECONDS)
        except asyncio.CancelledError:
            # An async activity's task is cancelled; the step still runs, as documented above.
            break


class FaultInjector(Interceptor):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.occurrences = _Occurrences()
        # One fault fires once per arm: a retried or restarted activity is not faulted again.
        self._fired: set[str] = set()

    def matches(self, fault: dict[str, Any], info: activity.Info, occurrence: int) -> bool:
        if not fault.get("mode") or fault.get("arm") in self._fired:
            return False
        if (info.workflow_type, info.activity_type, occurrence) != (
            fault["workflow"],
            fault["activity"],
            fault["occurrence"],
        ):
            return False
        self._fired.add(fault["arm"])
        return True

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _InjectFaults(next, self)
