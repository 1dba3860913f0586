"""An assistant turn's activities: read the conversation's latest messages, one LLM call, one tool
call, and write the turn's messages. Each is idempotent: reads change nothing; a platform tool that
changes things asks its route, which starts (or refuses) the same job the route starts: a repeated
cancel is the platform's 409, an answer; EC2 start/stop ask for a state, which a repeat finds
already so; the write is keyed by (turn, seq). A direct execution (`POST /api/tools/execute`) runs
the same `run_tool` activity in its own small job."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

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
from providers import aws, llm, platform_api
from providers.google.cloud_run import CloudRunServices, result_of
from providers.google.errors import as_temporal_failures
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

    @activity.defn(name=TurnSteps.SAVE_MESSAGES)
    async def save_messages(self, request: SaveRequest) -> Saved:
        rows = [message.model_dump() for message in request.messages]
        async with self.db.transaction() as session:
            saved = await conversations.append(
                session, request.conversation_id, request.turn_id, rows
            )
        return Saved(saved=saved)


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
