"""The assistant's tools outside a chat turn: the list (`GET /api/tools`) and one tool run directly
(`POST /api/tools/execute`), as an AssistantToolRun job running the same `run_tool` activity a turn
runs.

The autonomy level applies as in a turn, decided here before any job starts: under `read_only` a
tool that changes things is refused (403 TOOL_NOT_ALLOWED); under `semi` it is refused too (409
APPROVAL_REQUIRED), since a direct execution has no turn to wait in for an approval: ask for it in
`/api/chat`, where the turn asks the user; under `full` it runs. A cloud tool whose provider is not
enabled is 409 PROVIDER_DISABLED."""

from __future__ import annotations

import asyncio
import json

from pydantic import ValidationError
from temporalio.client import WorkflowFailureError

from api.deps import PlatformState
from api.errors import ApiError
from api.logic.assistant import config as config_logic
from api.logic.assistant.auth import Caller
from api.schemas.assistant.chat import ToolExecuteRequest, ToolExecution, ToolList, ToolView
from api.schemas.assistant.config import AssistantConfig
from contracts.assistant.names import Operations, Workflows
from contracts.assistant.tools import TOOLS
from contracts.assistant.turn import MAX_CONTENT, ToolCall, ToolResult, ToolRunInput


def enabled_providers(config: AssistantConfig) -> list[str]:
    return [name for name, provider in config.cloud_providers if provider.enabled]


async def listed(platform: PlatformState) -> ToolList:
    enabled = enabled_providers(await config_logic.current(platform.db))
    return ToolList(
        tools=[
            ToolView(
                name=tool.name,
                description=tool.description,
                category=tool.category,
                parameters=tool.schema(),
                mutating=tool.mutating,
                enabled=tool.provider is None or tool.provider in enabled,
            )
            for tool in TOOLS.values()
        ]
    )


async def execute(
    platform: PlatformState, caller: Caller, body: ToolExecuteRequest
) -> ToolExecution:
    tool = TOOLS.get(body.tool)
    if tool is None:
        raise ApiError(
            404, f"unknown tool {body.tool!r}", code="tool_not_found", details={"tool": body.tool}
        )
    try:
        tool.validate(body.parameters)
    except ValidationError as error:
        fields = [
            {"field": ".".join(str(p) for p in e["loc"]) or "parameters", "message": e["msg"]}
            for e in error.errors()
        ]
        raise ApiError(
            400,
            f"the parameters do not fit {tool.name}'s schema",
            code="validation_error",
            details={"fields": fields},
        ) from None
    config = await config_logic.current(platform.db)
    if tool.provider and tool.provider not in enabled_providers(config):
        raise ApiError(
            409,
            f"{tool.name} needs the cloud provider {tool.provider!r}, which is not enabled "
            "(PUT /api/config cloud_providers)",
            code="provider_disabled",
            details={"tool": tool.name, "provider": tool.provider},
        )
    level = config.agent.autonomy_level
    if tool.mutating and level == "read_only":
        raise ApiError(
            403,
            f"{tool.name} changes things and the assistant's autonomy level is read_only",
            code="tool_not_allowed",
            details={"tool": tool.name, "autonomy_level": level},
        )
    if tool.mutating and level == "semi":
        raise ApiError(
            409,
            f"{tool.name} changes things and the autonomy level is semi, where such a tool runs "
            "only once the user approves it: ask for it in POST /api/chat, whose turn asks for "
            "the approval",
            code="approval_required",
            details={"tool": tool.name, "autonomy_level": level},
        )
    arguments = json.dumps(body.parameters, separators=(",", ":"))
    if len(arguments) > MAX_CONTENT:
        raise ApiError(400, "the parameters are too long", code="validation_error")
    job = await platform.jobs.start(
        Workflows.ASSISTANT_TOOL,
        ToolRunInput(
            call=ToolCall(id="direct", name=tool.name, arguments=arguments), owner=caller.owner
        ),
        operation=Operations.ASSISTANT_TOOL,
        subject=None,
        caller=caller.principal,
        idempotency_key=None,
        body=None,
    )
    handle = platform.temporal.get_workflow_handle(job.job_id)
    wait = platform.settings.assistant_turn_wait_seconds
    try:
        raw = await asyncio.wait_for(handle.result(), wait)
    except TimeoutError:
        return ToolExecution(tool=tool.name, job_id=job.job_id, status="running")
    except WorkflowFailureError as error:
        raise ApiError(
            502, f"the tool run failed: {error.cause}", details={"job_id": job.job_id}
        ) from None
    result = ToolResult.model_validate(raw)
    try:
        shown = json.loads(result.content)
    except ValueError:
        shown = result.content
    return ToolExecution(
        tool=tool.name, job_id=job.job_id, status="completed", ok=result.ok, result=shown
    )
