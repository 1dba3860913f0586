"""One harness case: a scenario run with one fault at one step, and the verdict from the snapshots.

Faults (tests/harness/fault_injector.py does them in the harness's worker):
- fail_before / fail_after: the step's activity fails for good (non-retryable) before it runs, or
  after its work is done (the harder case: the step's side effect exists but the job saw a failure).
- cancel: the step is held (heartbeating) until the harness cancels the job through the API; the
  step then does its work and reports the cancel.
- kill: the step is held, the harness SIGKILLs the worker, starts a fresh one without faults; the
  job must complete.

Verdict, by the job's final status: completed → what changed equals the catalogue's footprint of a
successful run (exactly one of everything, and modified exactly what it modifies); failed or
cancelled → nothing was left behind, and for a "create" job nothing was removed or modified either
(a "remove" job may have removed or modified only what a successful one removes or modifies; a
"change" job removed nothing and put back what it changed, but for its scenario's `kept` fields,
which its compensation report must then list as `kept`; and but for what its scenario names in
`may_leave`, what the user did rather than the job: a chat turn's user message). A scenario may add
its own checks (`Scenario.expect`: the runner sweep's orphans)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import reduce
from operator import or_
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus

from contracts.events import PUBLISH_EVENT
from contracts.resource_lock import LockSteps
from tests.harness.fault_injector import held_marker
from tests.harness.platform import HarnessPlatform
from tests.harness.scenarios import Prepared, Scenario
from tests.harness.scenarios.base import job_ended
from tests.harness.snapshot import (
    Normaliser,
    difference,
    drop_database_objects,
    marked_by,
    snapshot,
)
from tests.helpers.history import local_activity_type

FAULTS = ("fail_before", "fail_after", "cancel", "kill")
# HARNESS_TIMING=1: each case prints how long its phases took (wall and this process's CPU, in
# seconds), for `pytest -s -n 0`; HARNESS_TIMING=<file> appends those lines to the file (under xdist,
# whose processes' output pytest does not show). docs/testing.md, "Suite timing".
TIMING_ENV = "HARNESS_TIMING"


class Phases:
    """Wall and CPU time of a case's phases, reported when HARNESS_TIMING is set."""

    def __init__(self) -> None:
        self.to = os.environ.get(TIMING_ENV, "")
        self.rows: list[tuple[str, float, float]] = []
        self._wall, self._cpu = time.monotonic(), time.process_time()

    def mark(self, phase: str) -> None:
        wall, cpu = time.monotonic(), time.process_time()
        self.rows.append((phase, wall - self._wall, cpu - self._cpu))
        self._wall, self._cpu = wall, cpu

    def report(self, label: str) -> None:
        if not self.to:
            return
        total = sum(row[1] for row in self.rows)
        parts = " ".join(f"{phase}={wall:.2f}/{cpu:.2f}" for phase, wall, cpu in self.rows)
        line = f"[harness timing] {label} total={total:.2f} (wall/cpu s) {parts}"
        if self.to == "1":
            print(f"\n{line}", file=sys.stderr)
            return
        with open(self.to, "a") as out:
            out.write(line + "\n")


JOB_SECONDS = 120
# Longer than the SDK's heartbeat throttle at the suite's 2.5 s heartbeat timeout (0.8 × 2.5 s).
CANCEL_REACHES_STEP_SECONDS = 2.5


@dataclass(frozen=True)
class Step:
    workflow: str
    activity: str
    occurrence: int

    @property
    def label(self) -> str:
        return f"{self.workflow}:{self.activity}#{self.occurrence}"

    @classmethod
    def parse(cls, label: str) -> Step:
        workflow, rest = label.split(":", 1)
        activity, occurrence = rest.rsplit("#", 1)
        return cls(workflow, activity, int(occurrence))


@dataclass
class Outcome:
    status: str
    changes: dict[str, list[str]]
    steps: list[Step] = field(default_factory=list)
    # The jobs of the run (the job, its child jobs) that failed or were cancelled, and the local
    # cloud's resources that still carry one of their ids as their ownership mark.
    failed_jobs: list[str] = field(default_factory=list)
    marked: list[str] = field(default_factory=list)
    failed_types: list[str] = field(default_factory=list)
    # By real key (not normalised), for a scenario's own checks; and what differs in each modified
    # resource (normalised key → dotted field paths), for the verdict's messages.
    raw_removed: list[str] = field(default_factory=list)
    raw_modified: list[str] = field(default_factory=list)
    modified_fields: dict[str, list[str]] = field(default_factory=dict)
    prepared: Prepared | None = None
    # What differs in each modified resource, its paths as they are (normalised key → paths).
    raw_fields: dict[str, list[str]] = field(default_factory=dict)
    # The job's compensation report (GET /jobs/{id}: each undo's step and status).
    compensation: list[dict] = field(default_factory=list)
    # `<workflow type> <id>` of each job started since the case's job, outside its tree, still
    # running once it ended (a job a tool run started, say).
    left_running: list[str] = field(default_factory=list)


ENDED_BADLY = {
    WorkflowExecutionStatus.FAILED,
    WorkflowExecutionStatus.CANCELED,
    WorkflowExecutionStatus.TERMINATED,
    WorkflowExecutionStatus.TIMED_OUT,
}


async def job_tree(platform: HarnessPlatform, job_id: str) -> list[str]:
    """The job and its child jobs, at any depth."""
    _steps, tree = await job_steps_and_tree(platform, job_id)
    return tree


async def jobs_left_running(
    platform: HarnessPlatform, since: datetime, tree: list[str]
) -> list[str]:
    """The jobs started since `since` (to the second), outside `tree`, that still run."""
    stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    query = f"ExecutionStatus = 'Running' AND StartTime >= '{stamp}'"
    running = [
        f"{each.workflow_type} {each.id}"
        async for each in platform.client.list_workflows(query)
        if each.id not in tree
    ]
    return sorted(running)


async def failed_jobs(platform: HarnessPlatform, tree: list[str]) -> dict[str, str]:
    """Job id → workflow type of each job of the tree that failed or was cancelled."""
    failed = {}
    for each in tree:
        description = await platform.client.get_workflow_handle(each).describe()
        if description.status in ENDED_BADLY:
            failed[each] = description.workflow_type
    return failed


# Activities every job schedules that are not steps of its work: publishing the job's outcome as
# a webhook event (workflows/job_events.py) changes nothing outside and never fails the job; giving
# the subject's turn back by a local activity (a job whose steps run locally) is the lock's
# `release` signal, which other jobs send as a command, and a failure of it is logged, not the
# job's.
NOT_STEPS = frozenset({PUBLISH_EVENT, LockSteps.RELEASE_TURN})


async def job_steps_and_tree(
    platform: HarnessPlatform, job_id: str
) -> tuple[list[Step], list[str]]:
    """The activities a job and its child jobs scheduled, in history order (a child's where it was
    started), each with its occurrence within its own workflow; and the job's tree (the job and its
    child jobs, at any depth), from the same one read of each history. Local activities too (a job
    whose steps run locally, such as AssistantTurn): each is a marker in the history, recorded with
    the workflow task that ran it (the worker's activity interceptors, the fault injector's, run
    for them as for the others)."""
    steps: list[Step] = []
    tree = [job_id]
    handle = platform.client.get_workflow_handle(job_id)
    history = await handle.fetch_history()
    workflow_type = history.events[0].workflow_execution_started_event_attributes.workflow_type.name
    counts: dict[str, int] = {}
    for event in history.events:
        name = None
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            name = event.activity_task_scheduled_event_attributes.activity_type.name
        elif event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            name = local_activity_type(event)
        if name is not None:
            if name in NOT_STEPS:
                continue
            steps.append(Step(workflow_type, name, counts.get(name, 0)))
            counts[name] = counts.get(name, 0) + 1
        elif event.event_type == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
            child = event.start_child_workflow_execution_initiated_event_attributes.workflow_id
            child_steps, child_tree = await job_steps_and_tree(platform, child)
            steps.extend(child_steps)
            tree.extend(child_tree)
    return steps, tree


async def _wait_held(platform: HarnessPlatform, seconds: float = 60) -> str:
    """The id of the workflow whose step is held, once it is."""
    marker = held_marker(platform.fault_file)
    deadline = time.monotonic() + seconds
    while not (marker.exists() and (held := marker.read_text())):
        if time.monotonic() > deadline:
            raise AssertionError("the held step never started")
        await asyncio.sleep(0.05)
    return held


async def _release_unless_cancelled(
    platform: HarnessPlatform, arm: dict, workflow_id: str, step: Step
) -> None:
    """Lets the held step go on once its workflow (`workflow_id`, the job or a child job) has
    handled the job's cancel without asking the step to stop (a step the job runs to the end), or
    CANCEL_REACHES_STEP_SECONDS after the cancel when that is not known by then (the step's workflow
    not asked to cancel yet). A step whose workflow did ask hears of it at its next heartbeat and
    ends its hold itself; it is let go at that same time too, as it always was."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + CANCEL_REACHES_STEP_SECONDS
    asked = None
    with contextlib.suppress(TimeoutError):
        asked = await asyncio.wait_for(
            _cancel_asked_of(platform, workflow_id, step.activity),
            timeout=CANCEL_REACHES_STEP_SECONDS,
        )
    if asked is not False:
        await asyncio.sleep(max(0.0, deadline - loop.time()))
    platform.arm(arm | {"release": arm["arm"]})


async def _cancel_asked_of(
    platform: HarnessPlatform, workflow_id: str, activity: str
) -> bool | None:
    """Whether the workflow, in the first task it completed after the job's cancel reached it,
    asked a pending activity of this type to cancel (its history, read by a long poll). None when
    the history cannot tell: a local activity's cancel leaves no event (nor does its scheduling)."""
    handle = platform.client.get_workflow_handle(workflow_id)
    requested = False
    async for event in handle.fetch_history_events(wait_new_event=True, skip_archival=True):
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
            requested = True
        elif requested and event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            # That task's commands are written with it: the whole history has them.
            history = await handle.fetch_history(skip_archival=True)
            scheduled = {
                event.event_id
                for event in history.events
                if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
                and event.activity_task_scheduled_event_attributes.activity_type.name == activity
            }
            if not scheduled:
                return None
            return any(
                event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_CANCEL_REQUESTED
                and event.activity_task_cancel_requested_event_attributes.scheduled_event_id
                in scheduled
                for event in history.events
            )
    return False


def platform_directories(platform: HarnessPlatform) -> dict[str, Path]:
    """The platform's directories whose files jobs make (snapshot.platform_files)."""
    settings = platform.settings
    return {
        "hosting.workspaces": settings.resolved_hosting_workspaces_dir,
        "hosting.uploads": settings.resolved_hosting_uploads_dir,
    }


async def _run_job(
    platform: HarnessPlatform,
    scenario: Scenario,
    prepared: Prepared,
    step: Step | None,
    fault: str | None,
    noop: tuple[str, ...],
    phases: Phases,
):
    normalise = Normaliser(prepared.tokens)
    cloud_dir, database = platform.cloud.data_dir, platform.settings.data_dir / "platform.db"
    directories = platform_directories(platform)
    before = await snapshot(cloud_dir, database, normalise, directories)
    phases.mark("snapshot_before")
    arm: dict = {"arm": uuid.uuid4().hex, "noop": list(noop)}
    if step is not None and fault is not None:
        mode = {"cancel": "hold", "kill": "hold"}.get(fault, fault)
        arm |= {
            "workflow": step.workflow,
            "activity": step.activity,
            "occurrence": step.occurrence,
            "mode": mode,
        }
    platform.arm(arm)
    since = datetime.now(UTC)
    release: asyncio.Task | None = None
    try:
        job_id = await scenario.start(platform, prepared)
        phases.mark("start")
        if fault == "cancel":
            held_in = await _wait_held(platform)
            phases.mark("held")
            response = await platform.api.post(f"/api/v1/jobs/{job_id}/cancel")
            assert response.status_code == 202, response.text
            # A cancellable step hears of it at its next heartbeat; one the job runs to the end
            # never does, and is let go after that: once its workflow has handled the cancel
            # without cancelling it, or at the latest CANCEL_REACHES_STEP_SECONDS after the cancel.
            # The job is waited for meanwhile.
            release = asyncio.create_task(_release_unless_cancelled(platform, arm, held_in, step))
            phases.mark("cancel")
        elif fault == "kill":
            await _wait_held(platform)
            phases.mark("held")
            platform.kill_worker()
            platform.disarm()
            platform.start_worker()
            phases.mark("kill_restart")
        job = await job_ended(platform, job_id, seconds=JOB_SECONDS)
        phases.mark("wait_job")
    finally:
        if release is not None:
            release.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await release
        platform.disarm()
    after = await snapshot(cloud_dir, database, normalise, directories)
    phases.mark("snapshot_after")
    await drop_database_objects(normalise, after.database_objects)
    phases.mark("drop_db")
    running = await jobs_left_running(platform, since, await job_tree(platform, job_id))
    phases.mark("left_running")
    return job_id, job, before, after, normalise, running


async def run_case(
    platform: HarnessPlatform,
    scenario: Scenario,
    step: Step | None,
    fault: str | None,
    noop: tuple[str, ...] = (),
) -> Outcome:
    """Prepares the scenario, snapshots, runs its job with the fault, snapshots again (then the
    scenario's teardown, whatever happened)."""
    phases = Phases()
    platform.ensure_worker()
    async with platform.quick_prerequisites():
        prepared: Prepared = await scenario.prepare(platform)
    phases.mark("prepare")
    try:
        job_id, job, before, after, normalise, running = await _run_job(
            platform, scenario, prepared, step, fault, noop, phases
        )
    finally:
        if scenario.teardown is not None:
            await scenario.teardown(platform, prepared)
        phases.mark("teardown")
    cloud_dir = platform.cloud.data_dir
    steps, tree = await job_steps_and_tree(platform, job_id)
    failed = await failed_jobs(platform, tree)
    phases.mark("history")
    changes = difference(before, after, normalise)
    marked = [normalise(key) for key in marked_by(cloud_dir, list(failed))]
    phases.mark("verdict")
    phases.report(f"{scenario.key} {step.label if step else '-'} {fault or 'none'}")
    return Outcome(
        job["status"],
        changes.normalised,
        steps,
        list(failed),
        marked,
        sorted(set(failed.values())),
        changes.removed,
        changes.modified,
        changes.fields,
        prepared,
        changes.raw_fields,
        job.get("compensation") or [],
        running,
    )


def verdict(
    scenario: Scenario,
    outcome: Outcome,
    footprint: dict[str, list[str]],
    fault: str | None,
    branches: dict[str, list[str]] | None = None,
) -> list[str]:
    """What is wrong with an outcome (empty: nothing)."""
    changes = outcome.changes
    problems = []
    if scenario.expect is not None and outcome.prepared is not None:
        problems.extend(scenario.expect(outcome.prepared, outcome))
    marked = _not_shared(scenario, outcome.marked)
    if marked:
        problems.append(
            f"{', '.join(outcome.failed_jobs)} ended badly and left {marked} marked as theirs"
        )
    if outcome.status == "completed":
        if fault in (None, "kill"):
            if changes != footprint:
                problems.append(
                    f"completed, but changed {_described(outcome)} instead of {footprint}"
                )
            return problems
        # A job that absorbed a failed child job (a customer onboarded without the branch that
        # failed) leaves exactly a successful run's footprint less what those children make.
        failed_branches = [Counter((branches or {}).get(t, [])) for t in outcome.failed_types]
        if failed_branches:
            expected = Counter(footprint["left behind"]) - reduce(or_, failed_branches)
            if Counter(changes["left behind"]) != expected:
                problems.append(
                    f"completed without {outcome.failed_types}, but left behind "
                    f"{changes['left behind']} instead of {sorted(expected.elements())}"
                )
        # Otherwise it completes with part of a successful run's footprint, never more or twice.
        for side in SIDES:
            extra = sorted((Counter(changes[side]) - Counter(footprint[side])).elements())
            if extra:
                problems.append(
                    f"completed after {fault}, but {side} more: {_with_fields(outcome, extra)}"
                )
        return problems
    left = [
        key
        for key in _not_shared(scenario, changes["left behind"])
        if key not in scenario.may_leave
    ]
    if left:
        problems.append(f"{outcome.status} and left behind {left}")
    modified = _not_shared(scenario, changes["modified"])
    if scenario.kind == "create":
        if changes["removed"]:
            problems.append(f"{outcome.status} and removed {changes['removed']}")
        if modified:
            problems.append(f"{outcome.status} and modified {_with_fields(outcome, modified)}")
    if scenario.kind == "change":
        problems.extend(_change_undone(scenario, outcome, modified))
    if scenario.kind == "remove":
        extra = sorted(set(changes["removed"]) - set(footprint["removed"]))
        if extra:
            problems.append(f"{outcome.status} and removed what it never removes: {extra}")
        # Part of a removal may have happened (a delete is not undone): what a successful run
        # modifies or removes may be modified, nothing else.
        allowed = set(footprint["modified"]) | set(footprint["removed"])
        extra = sorted(set(modified) - allowed)
        if extra:
            problems.append(
                f"{outcome.status} and modified what it never touches: "
                f"{_with_fields(outcome, extra)}"
            )
    return problems


SIDES = ("left behind", "removed", "modified")


def _change_undone(scenario: Scenario, outcome: Outcome, modified: list[str]) -> list[str]:
    """A failed or cancelled change: nothing removed, every change put back but its scenario's
    `kept` fields, and those, when changed, reported `kept` in the job's compensation report."""
    problems = []
    if outcome.changes["removed"]:
        problems.append(f"{outcome.status} and removed {outcome.changes['removed']}")
    not_undone, kept = [], []
    for key in modified:
        kind = key.split(" ", 1)[0]
        fields = outcome.raw_fields.get(key) or ["(its key only)"]
        for name in fields:
            if any(
                kind == pattern.split(" ", 1)[0] and name.startswith(pattern.split(" ", 1)[1])
                for pattern in scenario.kept
            ):
                kept.append(f"{key} ({name})")
            else:
                not_undone.append(f"{key} ({name})")
    if not_undone:
        problems.append(f"{outcome.status} and did not put back {not_undone}")
    reported = [entry for entry in outcome.compensation if entry.get("status") == "kept"]
    if kept and not reported:
        problems.append(
            f"{outcome.status} and left {kept} changed without reporting it kept "
            f"(compensation: {outcome.compensation})"
        )
    return problems


def _with_fields(outcome: Outcome, keys: list[str]) -> list[str]:
    """Modified keys with the fields that changed in them (others as they are)."""
    return [
        f"{key} ({', '.join(outcome.modified_fields[key])})"
        if outcome.modified_fields.get(key)
        else key
        for key in keys
    ]


def _described(outcome: Outcome) -> dict[str, list[str]]:
    return {
        side: _with_fields(outcome, keys) if side == "modified" else keys
        for side, keys in outcome.changes.items()
    }


def _not_shared(scenario: Scenario, keys: list[str]) -> list[str]:
    """The keys that are not of a kind the platform shares between jobs of this type."""
    return [key for key in keys if key.split(" ", 1)[0] not in scenario.shared]
