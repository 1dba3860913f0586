"""What only a job's history tells: how many attempts the failing step had, which event is its
failure (for the Web UI link), and when a cancel was requested. Read newest first, stopping as
soon as everything asked for is found."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import (
    GetWorkflowExecutionHistoryRequest,
    GetWorkflowExecutionHistoryReverseRequest,
)
from temporalio.client import Client

from contracts.jobs import RootCause

_PAGE = 200
_MAX_PAGES = 10


async def read_back(
    client: Client,
    job_id: str,
    run_id: str | None,
    cause: RootCause | None,
    *,
    want_cancel: bool,
) -> datetime | None:
    """Fills `cause.attempts` and `cause.event_id` in place; returns when the latest cancel was
    requested (None when not asked for or there was none)."""
    cancel_at: datetime | None = None
    token = b""
    for _ in range(_MAX_PAGES):
        response = await client.workflow_service.get_workflow_execution_history_reverse(
            GetWorkflowExecutionHistoryReverseRequest(
                namespace=client.namespace,
                execution=WorkflowExecution(workflow_id=job_id, run_id=run_id or ""),
                maximum_page_size=_PAGE,
                next_page_token=token,
            ),
            retry=True,
        )
        for event in response.history.events:
            if (
                want_cancel
                and cancel_at is None
                and event.HasField("workflow_execution_cancel_requested_event_attributes")
            ):
                cancel_at = event.event_time.ToDatetime(tzinfo=UTC)
            if cause is not None:
                _note_cause(cause, event)
            cause_done = cause is None or (
                cause.attempts is not None or event.event_id <= (cause.scheduled_event_id or 0)
            )
            if cause_done and (not want_cancel or cancel_at is not None):
                return cancel_at
        token = response.next_page_token
        if not token:
            break
    return cancel_at


def _note_cause(cause: RootCause, event) -> None:
    if event.event_id == cause.started_event_id:
        cause.attempts = event.activity_task_started_event_attributes.attempt
        return
    for field in (
        "activity_task_failed_event_attributes",
        "activity_task_timed_out_event_attributes",
    ):
        if event.HasField(field):
            attributes = getattr(event, field)
            if attributes.scheduled_event_id == cause.scheduled_event_id:
                cause.event_id = event.event_id


async def child_job_ids(
    client: Client, job_id: str, run_id: str | None, depth: int = 3
) -> list[str]:
    """The jobs this job started (child workflows), theirs too, down to `depth` levels: terminated
    with it (their parent close policy), they own what they made under their own ids."""
    found: list[str] = []
    token = b""
    for _ in range(_MAX_PAGES):
        response = await client.workflow_service.get_workflow_execution_history(
            GetWorkflowExecutionHistoryRequest(
                namespace=client.namespace,
                execution=WorkflowExecution(workflow_id=job_id, run_id=run_id or ""),
                maximum_page_size=_PAGE,
                next_page_token=token,
            ),
            retry=True,
        )
        for event in response.history.events:
            if event.HasField("start_child_workflow_execution_initiated_event_attributes"):
                child = event.start_child_workflow_execution_initiated_event_attributes.workflow_id
                if child not in found:
                    found.append(child)
        token = response.next_page_token
        if not token:
            break
    if depth > 1:
        for child in list(found):
            for grandchild in await child_job_ids(client, child, None, depth - 1):
                if grandchild not in found:
                    found.append(grandchild)
    return found
