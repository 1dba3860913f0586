"""What only a job's history tells: how many attempts the failing step had, which event is its
failure (for the Web UI link), and when a cancel was requested (read newest first, stopping as
soon as everything asked for is found); why it was terminated; which jobs it started; and its
new events as they are written (the long poll the log feed, the chat streams and a waiting job
read follow)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import (
    GetWorkflowExecutionHistoryRequest,
    GetWorkflowExecutionHistoryResponse,
    GetWorkflowExecutionHistoryReverseRequest,
)
from temporalio.client import Client
from temporalio.converter import decode_typed_search_attributes

from contracts.jobs import NEEDS_ATTENTION, RootCause
from temporal import search_attributes as sa

_PAGE = 200
_MAX_PAGES = 10
# The events that end a run: the last of its history.
CLOSE_EVENTS = frozenset(
    {
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    }
)


async def _events(
    client: Client, job_id: str, run_id: str | None, *, newest_first: bool
) -> AsyncIterator[HistoryEvent]:
    """The run's events page by page (at most _MAX_PAGES pages); the latest run when no run_id."""
    execution = WorkflowExecution(workflow_id=job_id, run_id=run_id or "")
    service = client.workflow_service
    token = b""
    for _ in range(_MAX_PAGES):
        if newest_first:
            response = await service.get_workflow_execution_history_reverse(
                GetWorkflowExecutionHistoryReverseRequest(
                    namespace=client.namespace,
                    execution=execution,
                    maximum_page_size=_PAGE,
                    next_page_token=token,
                ),
                retry=True,
            )
        else:
            response = await service.get_workflow_execution_history(
                GetWorkflowExecutionHistoryRequest(
                    namespace=client.namespace,
                    execution=execution,
                    maximum_page_size=_PAGE,
                    next_page_token=token,
                ),
                retry=True,
            )
        for event in response.history.events:
            yield event
        token = response.next_page_token
        if not token:
            return


async def next_events(
    client: Client, workflow_id: str, token: bytes, rpc_timeout: timedelta | None = None
) -> GetWorkflowExecutionHistoryResponse:
    """The events of the latest run past `token` (b"": from its start), by Temporal's long poll:
    answered once there are new ones (a workflow task's completion, the run's end) or at the
    server's poll interval with none. An empty `next_page_token` in the answer: the run has ended
    and its history is complete."""
    return await client.workflow_service.get_workflow_execution_history(
        GetWorkflowExecutionHistoryRequest(
            namespace=client.namespace,
            execution=WorkflowExecution(workflow_id=workflow_id),
            next_page_token=token,
            wait_new_event=True,
            skip_archival=True,
        ),
        retry=True,
        timeout=rpc_timeout,
    )


async def next_change(
    client: Client, workflow_id: str, token: bytes, seconds: float
) -> tuple[bytes, bool]:
    """One long poll of the latest run's history past `token`, for at most `seconds`: the token to
    go on from, and whether the events it brought settle the job: the run's end, or its phase set
    to needs_attention (held for an operator). A first poll (b"") brings the events so far, which
    count too: a hold that began just before it is not missed."""
    # The wait ends here, not by the call's deadline: an RPC past its deadline can come back as
    # another error than DEADLINE_EXCEEDED (the client's retries), which is no failure of the read.
    try:
        answer = await asyncio.wait_for(
            next_events(client, workflow_id, token, timedelta(seconds=seconds + 10)),
            timeout=seconds,
        )
    except TimeoutError:
        return token, False
    if not answer.next_page_token:
        return b"", True
    return answer.next_page_token, any(map(_holds_for_an_operator, answer.history.events))


def _holds_for_an_operator(event: HistoryEvent) -> bool:
    if event.event_type != EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
        return False
    attributes = event.upsert_workflow_search_attributes_event_attributes.search_attributes
    return decode_typed_search_attributes(attributes).get(sa.JOB_PHASE) == NEEDS_ATTENTION


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
    async for event in _events(client, job_id, run_id, newest_first=True):
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
    return cancel_at


async def termination_reason(client: Client, job_id: str, run_id: str | None) -> str | None:
    """The reason its terminate gave (the run's last event); None when it was not terminated."""
    async for event in _events(client, job_id, run_id, newest_first=True):
        if event.HasField("workflow_execution_terminated_event_attributes"):
            return event.workflow_execution_terminated_event_attributes.reason or None
        return None
    return None


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
    async for event in _events(client, job_id, run_id, newest_first=False):
        if event.HasField("start_child_workflow_execution_initiated_event_attributes"):
            child = event.start_child_workflow_execution_initiated_event_attributes.workflow_id
            if child not in found:
                found.append(child)
    if depth > 1:
        for child in list(found):
            for grandchild in await child_job_ids(client, child, None, depth - 1):
                if grandchild not in found:
                    found.append(grandchild)
    return found
