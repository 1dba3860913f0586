"""A chat turn: checks the conversation is the caller's, starts its AssistantTurn job (on the
conversation as subject, so turns of one conversation take turns) and waits for it a while; or
follows its events (the workflow's `assistant_turn_events` query) for the SSE and `/ws` streams;
and hands the user's approval of a tool call to the turn (the `assistant_approval` update)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import (
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api import sse
from api.deps import PlatformState
from api.errors import ApiError, not_found
from api.logic.assistant import config as config_logic
from api.logic.assistant import conversations
from api.logic.assistant.auth import Caller
from api.schemas.assistant.chat import ApprovalResponse, ChatRequest, ChatResponse
from api.schemas.assistant.conversations import MessageView
from contracts.assistant.names import (
    APPROVAL_UPDATE,
    CONVERSATION_SUBJECT,
    TURN_EVENTS_QUERY,
    Operations,
    Workflows,
)
from contracts.assistant.turn import (
    FIRST_EVENT,
    TERMINAL_EVENTS,
    ApprovalDecision,
    ApprovalOutcome,
    TurnEvents,
    TurnInput,
    TurnResult,
)
from contracts.jobs import JobSubject
from temporal import search_attributes

_QUERY_TIMEOUT = timedelta(seconds=5)
# A turn's job id, as the job engine names it (api/job_engine.py: job_id_for).
TURN_PREFIX = f"{Operations.ASSISTANT_TURN}-"


async def start_turn(
    platform: PlatformState, caller: Caller, conversation_id: str, message: str
) -> str:
    """Starts the turn's job and answers its id (404 for a conversation not the caller's)."""
    settings = platform.settings
    await conversations.ensure_owned(platform.db, caller.owner, conversation_id)
    config = await config_logic.current(platform.db)
    turn = TurnInput(
        conversation_id=conversation_id,
        message=message,
        model=config.llm.model,
        max_tool_rounds=settings.assistant_max_tool_rounds,
        history_messages=settings.assistant_history_messages,
        owner=caller.owner,
        autonomy_level=config.agent.autonomy_level,
        approval_timeout_seconds=settings.assistant_approval_timeout_seconds,
        cloud_providers=[name for name, provider in config.cloud_providers if provider.enabled],
    )
    job = await platform.jobs.start(
        Workflows.ASSISTANT_TURN,
        turn,
        operation=Operations.ASSISTANT_TURN,
        subject=JobSubject(kind=CONVERSATION_SUBJECT, name=conversation_id),
        caller=caller.principal,
        idempotency_key=None,
        body=None,
    )
    return job.job_id


async def chat(platform: PlatformState, caller: Caller, body: ChatRequest) -> ChatResponse:
    settings = platform.settings
    job_id = await start_turn(platform, caller, body.conversation_id, body.message)
    handle = platform.temporal.get_workflow_handle(job_id)
    try:
        raw = await asyncio.wait_for(handle.result(), settings.assistant_turn_wait_seconds)
    except TimeoutError:
        return ChatResponse(conversation_id=body.conversation_id, job_id=job_id, status="running")
    except WorkflowFailureError as error:
        raise ApiError(
            502,
            f"the assistant turn failed: {error.cause}",
            details={"job_id": job_id},
        ) from None
    result = TurnResult.model_validate(raw)
    return ChatResponse(
        conversation_id=body.conversation_id,
        job_id=job_id,
        status="completed",
        message=MessageView(
            role="assistant",
            content=result.content,
            timestamp=datetime.now(UTC),
            tool_calls=[
                conversations.tool_call_view(call.model_dump()) for call in result.tool_calls
            ]
            or None,
        ),
    )


# --- following a turn's events -----------------------------------------------------------------


async def ensure_turn_owned(platform: PlatformState, caller: Caller, job_id: str) -> None:
    """404 unless `job_id` is a turn in one of the caller's conversations. Read from the job's
    description (its subject is its conversation), which the server answers alone: a stream
    resumed while no worker runs (one was just killed) is let in and waits for the events, as
    `follow` does, instead of being refused (a browser's EventSource never retries a refusal)."""
    missing = not_found("turn", job_id=job_id)
    if not job_id.startswith(TURN_PREFIX):
        raise missing
    handle = platform.temporal.get_workflow_handle(job_id)
    try:
        described = await handle.describe(rpc_timeout=_QUERY_TIMEOUT)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise missing from None
        raise ApiError(
            503, "the turn cannot be read now", details={"upstream": "temporal"}
        ) from None
    subject = JobSubject.from_key(
        described.typed_search_attributes.get(search_attributes.SUBJECT), validate=False
    )
    if (
        described.workflow_type != Workflows.ASSISTANT_TURN
        or subject is None
        or subject.kind != CONVERSATION_SUBJECT
    ):
        raise missing
    await conversations.ensure_owned(platform.db, caller.owner, subject.name)


async def follow(
    platform: PlatformState, job_id: str, after: int = 0, *, just_started: bool = False
) -> AsyncIterator[dict[str, Any] | None]:
    """The turn's events past `after`, as they happen, until its `done` or `error`; None while
    nothing happened for `log_stream_keepalive_seconds` (a stream's keep-alive). Read from the
    workflow's state, so any API process, after any restart, answers the same events. Asked again
    as soon as one of the turn's workflow tasks completes (the only moment its events change: a
    long poll on its history), at the latest every `assistant_stream_poll_seconds`.

    `just_started`: this process has just started the turn, so its first event is known
    (`FIRST_EVENT`, the one every turn emits first) and sent before a worker has run the turn."""
    settings = platform.settings
    if just_started and after == 0:
        yield dict(FIRST_EVENT)
        after = FIRST_EVENT["id"]
    handle = platform.temporal.get_workflow_handle(job_id)
    changed, closed = asyncio.Event(), asyncio.Event()
    watcher = asyncio.create_task(_watch(handle, changed, closed))
    quiet_since = time.monotonic()
    try:
        while True:
            changed.clear()
            if closed.is_set() and (tail := await _events_of_result(handle, after)) is not None:
                for event in tail:
                    yield event
                    if event["type"] in TERMINAL_EVENTS:
                        return
            try:
                answer = await handle.query(
                    TURN_EVENTS_QUERY, after, result_type=TurnEvents, rpc_timeout=_QUERY_TIMEOUT
                )
            except Exception:  # no worker yet, or the turn has ended
                last = await _ending_after_failed_query(handle, after)
                if last is not None:
                    for event in last:
                        yield event
                    return
                answer = None
            if answer is not None and answer.events:
                for event in answer.events:
                    yield event
                    after = event["id"]
                    if event["type"] in TERMINAL_EVENTS:
                        return
                quiet_since = time.monotonic()
                continue
            if time.monotonic() - quiet_since >= settings.log_stream_keepalive_seconds:
                yield None
                quiet_since = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), settings.assistant_stream_poll_seconds)
    finally:
        watcher.cancel()


_WAKE_EVENTS = frozenset(
    {
        EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    }
)


async def _watch(handle: Any, changed: asyncio.Event, closed: asyncio.Event) -> None:
    """Sets `changed` whenever the turn's history shows a completed workflow task or its end
    (Temporal's long poll: the answer comes when the event is written), and `closed` at its end.
    Any failure leaves the stream to its poll interval."""
    with contextlib.suppress(Exception):
        async for event in handle.fetch_history_events(wait_new_event=True, skip_archival=True):
            if event.event_type in _WAKE_EVENTS:
                if event.event_type != EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                    closed.set()
                changed.set()


async def _events_of_result(handle: Any, after: int) -> list[dict[str, Any]] | None:
    """A completed turn's events past `after`, from its result (no worker needed); None for a
    turn that failed or ended otherwise, or one started before its result carried them."""
    try:
        raw = await handle.result(rpc_timeout=_QUERY_TIMEOUT)
    except Exception:
        return None
    events = raw.get("events") if isinstance(raw, dict) else None
    if not events:
        return None
    return [event for event in events if event["id"] > after]


async def _ending_after_failed_query(handle: Any, after: int) -> list[dict[str, Any]] | None:
    """When the events query failed: None while the turn runs (no worker answered yet: keep
    waiting); else the stream's last events. A turn that completed since the last look (before
    the watcher saw it) has them in its result; one that ended otherwise, or is gone, ends the
    stream with an `error`."""
    try:
        described = await handle.describe(rpc_timeout=_QUERY_TIMEOUT)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return [{"id": after + 1, "type": "error", "message": "the turn no longer exists"}]
        return None
    if described.status in (None, WorkflowExecutionStatus.RUNNING):
        return None
    if described.status == WorkflowExecutionStatus.COMPLETED:
        tail = await _events_of_result(handle, after)
        if tail and tail[-1]["type"] in TERMINAL_EVENTS:
            return tail
    status = described.status.name.lower()
    return [
        {
            "id": after + 1,
            "type": "error",
            "message": f"the turn ended ({status}) without its events",
        }
    ]


async def sse_events(
    platform: PlatformState, job_id: str, after: int = 0, *, just_started: bool = False
) -> AsyncIterator[str]:
    """`follow` as Server-Sent Events: `id: <n>` and `data: {"id", "type", ...}` (no `event:`
    name, so a browser's EventSource hands each to `onmessage`, as the seed's stream shows)."""
    yield sse.RETRY
    async for event in follow(platform, job_id, after, just_started=just_started):
        yield sse.KEEPALIVE if event is None else sse.event(event["id"], event)


# --- approvals ---------------------------------------------------------------------------------


async def decide(
    platform: PlatformState, caller: Caller, approval_id: str, approve: bool
) -> ApprovalResponse:
    """Hands the decision to the waiting turn; the workflow's validator refuses an approval that
    does not exist or is not the caller's (404, alike) and one already decided (409)."""
    job_id, _, number = approval_id.rpartition(".")
    missing = not_found("approval", approval_id=approval_id)
    if not job_id.startswith(TURN_PREFIX) or not number.isdigit():
        raise missing
    handle = platform.temporal.get_workflow_handle(job_id)
    try:
        outcome = await handle.execute_update(
            APPROVAL_UPDATE,
            ApprovalDecision(approval_id=approval_id, approve=approve, owner=caller.owner),
            result_type=ApprovalOutcome,
        )
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        if isinstance(cause, ApplicationError) and cause.type == "Conflict":
            raise ApiError(409, cause.message, details={"approval_id": approval_id}) from None
        raise missing from None
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:  # no such turn, or it already ended
            raise missing from None
        raise ApiError(
            503, "the turn cannot be reached now", details={"upstream": "temporal"}
        ) from None
    return ApprovalResponse(approval_id=outcome.approval_id, status=outcome.status)
