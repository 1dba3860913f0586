"""An assistant turn's activities: read the conversation's latest messages and save the user's
(opening the turn: a local activity), one LLM call, one tool call, and
write the turn's messages. Each is idempotent: reads change nothing; a platform tool that
changes things asks its route, which starts (or refuses) the same job the route starts: a repeated
cancel is the platform's 409, an answer; EC2 start/stop ask for a state, which a repeat finds
already so; the write is keyed by (turn, seq), and so is its undo (a failed turn's answer taken
back). A direct execution (`POST /api/tools/execute`) runs the same `run_tool` activity in its own
small job. A learned API's operation is a tool too (activities/assistant/learned.py); a learned
operation that changes things is only as idempotent as that API makes it, which is why it waits
for approval like the platform's changing tools. Each tool that ran is published as a
`tool.executed` event (once per call: the event id is the call's)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.client import Client

from activities.assistant import learned as learned_calls
from contracts.assistant.names import TurnSteps
from contracts.assistant.tools import TOOLS
from contracts.assistant.turn import (
    MAX_CONTENT,
    MAX_TOOL_RESULT,
    ChatMessage,
    Completion,
    CompletionRequest,
    History,
    HistoryRequest,
    RemoveRequest,
    Saved,
    SaveRequest,
    ToolCall,
    ToolResult,
    ToolSpec,
    TurnOpening,
)
from contracts.assistant.webhooks import Event
from core.settings import Settings
from providers import aws, llm, platform_api
from providers.google.cloud_run import CloudRunServices, result_of
from providers.google.errors import as_temporal_failures
from store.assistant import conversations, learned
from store.assistant.models import Conversation, Message
from store.db import Database
from temporal import events
from temporal.client import connect

# Learned operations a turn offers at most (the LLM APIs take 128 tools).
MAX_LEARNED_TOOLS = 100

log = structlog.get_logger(__name__)


class TurnActivities:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self._client: Client | None = None

    def all(self) -> list:
        return [
            self.load_history,
            self.open_turn,
            self.complete,
            self.run_tool,
            self.save_messages,
            self.remove_messages,
        ]

    async def _temporal(self) -> Client:
        if self._client is None:
            self._client = await connect(self.settings)
        return self._client

    @activity.defn(name=TurnSteps.LOAD_HISTORY)
    async def load_history(self, request: HistoryRequest) -> History:
        async with self.db.transaction() as session:
            return await _history(session, request)

    @activity.defn(name=TurnSteps.OPEN_TURN)
    async def open_turn(self, opening: TurnOpening) -> History:
        """The conversation as the turn starts, and the user's message saved, in one transaction
        (a local activity: a retry after a lost workflow task reads the same and writes nothing)."""
        question = opening.question
        async with self.db.transaction() as session:
            history = await _history(session, opening.history, exclude_turn=question.turn_id)
            if history.found:
                rows = [message.model_dump() for message in question.messages]
                await conversations.append(
                    session, question.conversation_id, question.turn_id, rows
                )
        return history

    @activity.defn(name=TurnSteps.COMPLETE)
    async def complete(self, request: CompletionRequest) -> Completion:
        return await llm.complete(self.settings, request)

    @activity.defn(name=TurnSteps.RUN_TOOL)
    async def run_tool(self, call: ToolCall) -> ToolResult:
        """The tool's answer for the LLM. A call the tool refuses (unknown tool, arguments its
        model rejects, a route's 4xx) is an answer too: the LLM reads it and may correct itself."""
        result = await self._tool_answer(call)
        await self._published(call, result)
        return result

    async def _tool_answer(self, call: ToolCall) -> ToolResult:
        tool = TOOLS.get(call.name)
        if tool is None:
            try:
                arguments = llm.arguments_of(call)
            except ValueError as error:
                arguments, refusal = {}, f"invalid arguments: {error}"
            else:
                refusal = None
            answer = await learned_calls.call_operation(self.settings, self.db, call, arguments)
            if answer is None:
                return _result(
                    call, False, f"unknown tool {call.name!r}; tools: {', '.join(TOOLS)}"
                )
            if refusal is not None:
                return _result(call, False, refusal)
            return _result(call, *answer)
        try:
            params = tool.validate(llm.arguments_of(call))
        except (ValueError, ValidationError) as error:
            return _result(call, False, f"invalid arguments: {str(error)[:1000]}")
        if tool.provider is not None:
            try:
                answer = await asyncio.to_thread(_CLOUD[tool.name], self.settings, params)
            except aws.AwsRefused as refused:
                return _result(call, False, f"AWS answered {refused}")
        else:
            path, query = tool.request(params)
            try:
                answer = await platform_api.call(self.settings, tool.method, path, query)
            except platform_api.PlatformRefused as refused:
                body = refused.body
                return _result(call, False, f"the platform answered {refused.status}: {body}")
        log.info("assistant tool ran", tool=call.name)
        shown = tool.shown(answer)
        return _result(call, True, json.dumps(shown, separators=(",", ":"), default=str))

    async def _published(self, call: ToolCall, result: ToolResult) -> None:
        """`tool.executed` to the conversation owner's webhooks; the event names the tool and
        whether it answered, not its arguments nor its answer."""
        turn_id = activity.info().workflow_id
        async with self.db.transaction() as session:
            found = (
                await session.execute(
                    select(Conversation.id, Conversation.owner)
                    .join(Message, Message.conversation_id == Conversation.id)
                    .where(Message.turn_id == turn_id)
                    .limit(1)
                )
            ).first()
        if found is None:
            return
        event = Event(
            id=f"{turn_id}:{call.id}",
            type="tool.executed",
            created_at=events.now_text(),
            owner=found.owner,
            data={
                "tool": call.name,
                "ok": result.ok,
                "conversation_id": found.id,
                "job_id": turn_id,
                "call_id": call.id,
            },
        )
        await events.publish(self._temporal, self.db, self.settings, event)

    @activity.defn(name=TurnSteps.SAVE_MESSAGES)
    async def save_messages(self, request: SaveRequest) -> Saved:
        rows = [message.model_dump() for message in request.messages]
        async with self.db.transaction() as session:
            saved = await conversations.append(
                session, request.conversation_id, request.turn_id, rows
            )
        return Saved(saved=saved)

    @activity.defn(name=TurnSteps.REMOVE_MESSAGES)
    async def remove_messages(self, request: RemoveRequest) -> int:
        """The undo of a save: a turn that fails or is cancelled takes its answer back, so the
        conversation never shows an answer (and tool results) of a turn that did not complete.
        Idempotent: a repeat finds nothing to remove."""
        async with self.db.transaction() as session:
            return await conversations.take_back(
                session, request.conversation_id, request.turn_id, request.seqs
            )


async def _history(
    session: AsyncSession, request: HistoryRequest, exclude_turn: str | None = None
) -> History:
    if await session.get(conversations.Conversation, request.conversation_id) is None:
        return History(found=False)
    rows = await conversations.messages(
        session, request.conversation_id, request.last, exclude_turn=exclude_turn
    )
    operations = (
        await learned.operations_of(session, request.owner, MAX_LEARNED_TOOLS)
        if request.owner
        else []
    )
    # What the LLM needs of earlier turns: what was asked and answered (the answers already say
    # what the tools found).
    return History(
        found=True,
        messages=[
            ChatMessage(role=row.role, content=(row.content or "")[:MAX_CONTENT])
            for row in rows
            if row.role in ("user", "assistant") and request.last > 0
        ],
        tools=[
            ToolSpec(
                name=op.tool_name,
                description=op.description,
                parameters=op.parameters,
                mutating=op.method not in ("GET", "HEAD", "OPTIONS"),
            )
            for op in operations
        ],
    )


def _cloud_run_services(settings: Settings, params: Any) -> dict[str, Any]:
    region = params.region or settings.gcp_region
    with as_temporal_failures(f"listing Cloud Run services in {region}"):
        services = CloudRunServices(settings).list(region)
    return {
        "services": [
            result_of(s, region).model_dump(exclude={"created", "previous_json"}) for s in services
        ]
    }


# The cloud tools' calls (boto3 and the Google clients are synchronous: run in a thread).
_CLOUD: dict[str, Callable[[Settings, Any], Any]] = {
    "list_ec2_instances": lambda s, p: aws.list_instances(s, p.region, p.state),
    "describe_ec2_instance": lambda s, p: aws.describe_instance(s, p.instance_id, p.region),
    "start_ec2_instance": lambda s, p: aws.start_instance(s, p.instance_id, p.region),
    "stop_ec2_instance": lambda s, p: aws.stop_instance(s, p.instance_id, p.region),
    "list_aws_regions": lambda s, _p: aws.list_regions(s),
    "list_cloud_run_services": _cloud_run_services,
}
assert {t.name for t in TOOLS.values() if t.provider} == set(_CLOUD), "a cloud tool without a call"


def _result(call: ToolCall, ok: bool, content: str) -> ToolResult:
    if len(content) > MAX_TOOL_RESULT:
        content = content[: MAX_TOOL_RESULT - 40] + " … (cut: the answer was longer)"
    return ToolResult(call_id=call.id, name=call.name, ok=ok, content=content)
