"""Every workflow type has an execution timeout and every activity call a start-to-close timeout
chosen for its work: checked on the registrations, the workflow code and a real job's history."""

from __future__ import annotations

import ast
import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

import worker
from api.logic.oversight.schedule import schedule_id as reaper_schedule_id
from api.logic.provisioning.drift_schedule import schedule_id as drift_schedule_id
from api.logic.runners.schedule import schedule_id as cleanup_schedule_id
from contracts.provisioning.names import Workflows
from contracts.timeouts import JobTimeouts
from contracts.workflow_timeouts import BY_WORKFLOW
from tests.helpers.platform import unique_name, wait_for_job
from tests.helpers.provisioning import deploy

ROOT = Path(__file__).resolve().parents[2]


def test_every_registered_workflow_type_has_its_timeouts():
    registered = {w.__temporal_workflow_definition.name for w in worker.WORKFLOWS}
    assert registered - set(BY_WORKFLOW) == set()
    for figures in BY_WORKFLOW.values():
        assert figures.execution >= max(timedelta(days=2), figures.expected * 4)


def test_an_execution_timeout_under_four_times_expected_or_two_days_is_refused():
    with pytest.raises(ValueError):
        JobTimeouts(expected=timedelta(days=1), execution=timedelta(days=3))
    with pytest.raises(ValueError):
        JobTimeouts(expected=timedelta(minutes=1), execution=timedelta(days=1))


def test_every_step_call_in_the_workflows_says_its_start_to_close():
    missing = []
    for path in (ROOT / "workflows").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("step", "step_to_the_end")
                and not any(k.arg == "start_to_close" for k in node.keywords)
            ):
                missing.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert missing == []


async def test_a_job_runs_with_its_types_execution_timeout_and_timed_activities(
    api, client: Client
):
    job_id = (await deploy(api, unique_name("timed")))["job_id"]
    assert (await wait_for_job(api, job_id))["status"] == "completed"
    history = await client.get_workflow_handle(job_id).fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    expected = BY_WORKFLOW[Workflows.DEPLOY_SERVICE].execution
    assert started.workflow_execution_timeout.ToTimedelta() == expected
    scheduled = [
        event.activity_task_scheduled_event_attributes
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    assert scheduled
    for attributes in scheduled:
        assert attributes.start_to_close_timeout.ToTimedelta() > timedelta(0), attributes
    by_type = {a.activity_type.name: a.start_to_close_timeout.ToTimedelta() for a in scheduled}
    # A registry write gets seconds, the Cloud Run apply minutes.
    assert by_type["registry.upsert_service"] == timedelta(seconds=30)
    assert by_type["cloud_run.apply_service"] == timedelta(minutes=10)


async def test_the_schedules_start_their_workflows_with_an_execution_timeout(
    api, client: Client, settings
):
    for schedule_id in (
        reaper_schedule_id(settings),
        cleanup_schedule_id(settings),
        drift_schedule_id(settings),
    ):
        handle = client.get_schedule_handle(schedule_id)
        for _ in range(100):
            try:
                description = await handle.describe()
                break
            except Exception:  # the API creates its schedules in the background as it starts
                await asyncio.sleep(0.1)
        action = description.schedule.action
        assert action.execution_timeout is not None
        assert action.execution_timeout >= timedelta(days=2)
