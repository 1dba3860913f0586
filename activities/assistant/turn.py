"""An assistant turn's activities: read the conversation's latest messages, one LLM call, one tool
call, and write the turn's messages. Each is idempotent: reads change nothing, the one tool that
changes things (`cancel_job`) asks for what is already so when repeated (a second cancel is the
platform's 409, an answer), the write is keyed by (turn, seq)."""

from __future__ import annotations

import json

import structlog
from pydantic import ValidationError
from temporalio import activity

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
    Saved,
    SaveRequest,
    ToolCall,
    ToolResult,
)
from core.settings import Settings
from providers import llm, platform_api
from store.assistant import conversations
from store.db import Database

log = structlog.get_logger(__name__)


class TurnActivities:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db

    def all(self) -> list:
        return [self.load_history, self.complete, self.run_tool, self.save_messages]

    @activity.defn(name=TurnSteps.LOAD_HISTORY)
    async def load_history(self, request: HistoryRequest) -> History:
        async with self.db.transaction() as session:
            if await session.get(conversations.Conversation, request.conversation_id) is None:
                return History(found=False)
            rows = await conversations.messages(session, request.conversation_id, request.last)
        # What the LLM needs of earlier turns: what was asked and answered (the answers already
        # say what the tools found).
        return History(
            found=True,
            messages=[
                ChatMessage(role=row.role, content=(row.content or "")[:MAX_CONTENT])
                for row in rows
                if row.role in ("user", "assistant") and request.last > 0
            ],
        )

    @activity.defn(name=TurnSteps.COMPLETE)
    async def complete(self, request: CompletionRequest) -> Completion:
        return await llm.complete(self.settings, request)

    @activity.defn(name=TurnSteps.RUN_TOOL)
    async def run_tool(self, call: ToolCall) -> ToolResult:
        """The tool's answer for the LLM. A call the tool refuses (unknown tool, arguments its
        model rejects, a route's 4xx) is an answer too: the LLM reads it and may correct itself."""
        tool = TOOLS.get(call.name)
        if tool is None:
            return _result(call, False, f"unknown tool {call.name!r}; tools: {', '.join(TOOLS)}")
        try:
            params = tool.params.model_validate(llm.arguments_of(call))
        except (ValueError, ValidationError) as error:
            return _result(call, False, f"invalid arguments: {str(error)[:1000]}")
        path, query = tool.request(params)
        try:
            answer = await platform_api.call(self.settings, tool.method, path, query)
        except platform_api.PlatformRefused as refused:
            return _result(call, False, f"the platform answered {refused.status}: {refused.body}")
        log.info("assistant tool ran", tool=call.name)
        return _result(call, True, json.dumps(answer, separators=(",", ":"), default=str))

    @activity.defn(name=TurnSteps.SAVE_MESSAGES)
    async def save_messages(self, request: SaveRequest) -> Saved:
        rows = [message.model_dump() for message in request.messages]
        async with self.db.transaction() as session:
            saved = await conversations.append(
                session, request.conversation_id, request.turn_id, rows
            )
        return Saved(saved=saved)


def _result(call: ToolCall, ok: bool, content: str) -> ToolResult:
    if len(content) > MAX_TOOL_RESULT:
        content = content[: MAX_TOOL_RESULT - 40] + " … (cut: the answer was longer)"
    return ToolResult(call_id=call.id, name=call.name, ok=ok, content=content)
