"""A chat turn: checks the conversation is the caller's, starts its AssistantTurn job (on the
conversation as subject, so turns of one conversation take turns) and waits for it a while; or
follows its events (written into its history; the `assistant_turn_events` query for older turns)
for the SSE and `/ws` streams; and hands the user's approval of a tool call to the turn (the
`assistant_approval` update)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
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

from api import job_history, sse
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
    TURN_EVENTS_MEMO,
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
    turn's history (a long poll, answered when events are written), so any API process, after any
    restart, answers the same events, and no worker is asked: a turn writes its events there
    (`TURN_EVENTS_MEMO`, with the workflow task that emits them). A turn that does not (started
    before it, or run by an older worker: its first workflow task writes no such memo) is asked
    by the `assistant_turn_events` query as soon as one of its workflow tasks completes, at the
    latest every `assistant_stream_poll_seconds`; so is any turn while its history cannot be read.

    `just_started`: this process has just started the turn, so its first event is known
    (`FIRST_EVENT`, the one every turn emits first) and sent before a worker has run the turn."""
    settings = platform.settings
    if just_started and after == 0:
        yield dict(FIRST_EVENT)
        after = FIRST_EVENT["id"]
    handle = platform.temporal.get_workflow_handle(job_id)
    news: asyncio.Queue[_News] = asyncio.Queue()
    reader = asyncio.create_task(_read_history(platform, job_id, news))
    # None until the first workflow task shows whether the turn writes its events in its history.
    in_history: bool | None = None
    readable, ended = True, False
    quiet_since = time.monotonic()
    try:
        while True:
            try:
                batch = await asyncio.wait_for(news.get(), settings.assistant_stream_poll_seconds)
            except TimeoutError:
                batch = None
            if batch is not None:
                readable = not batch.unreadable
                ended = ended or batch.closed
                if batch.declared:
                    in_history = True
                elif batch.task_completed and in_history is None:
                    in_history = False
                if in_history:
                    for event in batch.events:
                        if event["id"] <= after:
                            continue
                        yield event
                        after = event["id"]
                        quiet_since = time.monotonic()
                        if event["type"] in TERMINAL_EVENTS:
                            return
                if batch.closed and in_history is not False:
                    # Ended without its last event in the history (terminated, timed out, a
                    # failed workflow task's end, or before any worker ran it): from its result,
                    # or an `error`.
                    for event in await _ending_after_failed_query(handle, after) or []:
                        yield event
                    return
            if readable and in_history is not False:
                # The history tells: nothing to ask. A keep-alive when due.
                if time.monotonic() - quiet_since >= settings.log_stream_keepalive_seconds:
                    yield None
                    quiet_since = time.monotonic()
                continue
            if batch is not None and not (batch.task_completed or batch.closed or batch.unreadable):
                # Its events change only with a completed workflow task: asking now would land
                # on the one about to run.
                continue
            asked = await _asked(handle, after, closed=ended)
            for event in asked:
                yield event
                after = event["id"]
                if event["type"] in TERMINAL_EVENTS:
                    return
            if asked:
                quiet_since = time.monotonic()
            elif ended:
                return  # nothing past `after`, and nothing will come
            elif time.monotonic() - quiet_since >= settings.log_stream_keepalive_seconds:
                yield None
                quiet_since = time.monotonic()
    finally:
        reader.cancel()


async def _asked(handle: Any, after: int, *, closed: bool) -> list[dict[str, Any]]:
    """The turn's events past `after` by asking it (the query; a turn that has ended, from its
    result or as an `error`): those of a turn that does not write them in its history."""
    if closed and (tail := await _events_of_result(handle, after)) is not None:
        return tail
    try:
        answer = await handle.query(
            TURN_EVENTS_QUERY, after, result_type=TurnEvents, rpc_timeout=_QUERY_TIMEOUT
        )
    except Exception:  # no worker yet, or the turn has ended
        return await _ending_after_failed_query(handle, after) or []
    return answer.events


@dataclass
class _News:
    """What one answer of the history's long poll tells a stream."""

    # The turn's events written in it (TURN_EVENTS_MEMO), in order.
    events: list[dict[str, Any]] = field(default_factory=list)
    # A turn writing its events there (its first, empty, write).
    declared: bool = False
    task_completed: bool = False
    closed: bool = False
    # The history cannot be read (now or any more): the stream asks the turn instead.
    unreadable: bool = False


async def _read_history(platform: PlatformState, job_id: str, news: asyncio.Queue[_News]) -> None:
    """Follows the turn's history, one `_News` per answer of Temporal's long poll (an answer comes
    when events are written: a workflow task's completion with its commands, the turn's end).
    A failure to read it is told as `unreadable`, and reading goes on after a pause."""
    client = platform.temporal
    token = b""
    failing = False
    while True:
        try:
            answer = await job_history.next_events(client, job_id, token)
            batch = await _news_of(client, answer.history.events)
        except asyncio.CancelledError:
            raise
        except Exception:
            failing = True
            news.put_nowait(_News(unreadable=True))
            await asyncio.sleep(1)
            continue
        if answer.history.events or failing:
            failing = False
            news.put_nowait(batch)
        if not answer.next_page_token:
            return  # the whole history of a turn that has ended
        token = answer.next_page_token


async def _news_of(client: Any, history: Any) -> _News:
    batch = _News()
    written = []
    for event in history:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            batch.task_completed = True
        elif kind in job_history.CLOSE_EVENTS:
            batch.closed = True
        elif kind == EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
            fields = event.workflow_properties_modified_event_attributes.upserted_memo.fields
            if TURN_EVENTS_MEMO in fields:
                written.append(fields[TURN_EVENTS_MEMO])
    if written:
        batch.declared = True
        for events in await client.data_converter.decode(written):
            batch.events.extend(events or [])
    return batch


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
