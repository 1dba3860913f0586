"""`POST /api/chat` (one turn, answered whole or streamed as SSE), the turn's events again
(`GET /api/chat/turns/{job_id}/events`, resumable), approvals of tool calls, `GET /api/tools` and
`POST /api/tools/execute` (seed 002)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Path, Response, status
from fastapi.responses import StreamingResponse

from api import sse
from api.errors import answers
from api.http import JsonRouter
from api.logic.assistant import chat as logic
from api.logic.assistant import tools as tools_logic
from api.routes.assistant.common import ANSWERS, AssistantCaller, Platform
from api.schemas.assistant.chat import (
    ApprovalRequest,
    ApprovalResponse,
    ChatRequest,
    ChatResponse,
    ToolExecuteRequest,
    ToolExecution,
    ToolList,
)

router = JsonRouter(prefix="/api", tags=["assistant"], responses=ANSWERS)

_EVENTS = {
    "description": "With `stream: true`, `text/event-stream`: the turn's events, each `id: <n>` "
    'and `data: {"id", "type", ...}`; the `X-Job-ID` header names the turn to resume.',
    "content": {"text/event-stream": {"schema": {"type": "string"}}},
}
TurnId = Annotated[
    str, Path(pattern=r"^assistant_turn-[A-Za-z0-9_-]{1,80}$", description="The turn's job id.")
]


@router.post(
    "/chat",
    response_model=ChatResponse,
    responses={
        200: _EVENTS,
        **answers(404, 413, 415, 502, 503),
        202: {"model": ChatResponse, "description": "The turn still runs: follow its job."},
    },
)
async def chat(
    body: ChatRequest,
    caller: AssistantCaller,
    platform: Platform,
    response: Response,
) -> ChatResponse | StreamingResponse:
    """Runs one turn (an AssistantTurn job): 200 with the answer and its tool calls, or 202 with
    the job when it outlasts `assistant_turn_wait_seconds` (the answer is saved when it ends).
    With `stream: true`, its events as they happen (SSE), ending with `done` or `error`."""
    if body.stream:
        job_id = await logic.start_turn(platform, caller, body.conversation_id, body.message)
        return sse.response(
            logic.sse_events(platform, job_id, just_started=True),
            headers={"X-Job-ID": job_id, "Content-Location": f"/api/chat/turns/{job_id}/events"},
        )
    answer = await logic.chat(platform, caller, body)
    if answer.status == "running":
        response.status_code = status.HTTP_202_ACCEPTED
    return answer


@router.get(
    "/chat/turns/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: _EVENTS, **answers(404, 503)},
)
async def turn_events(
    job_id: TurnId,
    caller: AssistantCaller,
    platform: Platform,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            pattern=r"^\d{1,9}$",
            description="Resume after this event id (what EventSource sends when it "
            "reconnects); without it, from the turn's first event.",
        ),
    ] = None,
) -> StreamingResponse:
    """A turn's events (the same as its `stream: true` answer), from the first or after
    `Last-Event-ID`, until `done` or `error`; a turn that already ended answers them at once."""
    await logic.ensure_turn_owned(platform, caller, job_id)
    after = int(last_event_id) if last_event_id is not None else 0
    return sse.response(logic.sse_events(platform, job_id, after), headers={"X-Job-ID": job_id})


@router.post(
    "/chat/approvals/{approval_id}",
    response_model=ApprovalResponse,
    responses=answers(404, 409, 503),
)
async def decide_approval(
    approval_id: Annotated[
        str,
        Path(
            pattern=r"^assistant_turn-[A-Za-z0-9_-]{1,80}\.\d{1,4}$",
            description="The `approval_id` of an `approval_required` event.",
        ),
    ],
    body: ApprovalRequest,
    caller: AssistantCaller,
    platform: Platform,
) -> ApprovalResponse:
    """Approves or rejects a tool call its turn waits for (autonomy level `semi`). 404 for an
    approval that does not exist, is not the caller's or whose turn ended; 409 once decided."""
    return await logic.decide(platform, caller, approval_id, body.approve)


@router.get("/tools", response_model=ToolList)
async def list_tools(_: AssistantCaller, platform: Platform) -> ToolList:
    """The tools a turn may call; `parameters` is the JSON schema their calls are checked by,
    `enabled` says whether a turn offers it now (a cloud tool needs its provider enabled)."""
    return await tools_logic.listed(platform)


@router.post(
    "/tools/execute",
    response_model=ToolExecution,
    responses={
        **answers(404, 409, 413, 415, 502, 503),
        202: {"model": ToolExecution, "description": "The run still goes on: follow its job."},
    },
)
async def execute_tool(
    body: ToolExecuteRequest, caller: AssistantCaller, platform: Platform, response: Response
) -> ToolExecution:
    """Runs one tool as a chat turn's call would (an AssistantToolRun job, the same activity),
    under the same autonomy level: a tool that changes things is 403 TOOL_NOT_ALLOWED under
    `read_only` and 409 APPROVAL_REQUIRED under `semi` (approve it in `/api/chat`), runs under
    `full`. A cloud tool of a provider not enabled is 409 PROVIDER_DISABLED. The tool's own
    refusal (a 404 of the route it reads) is a 200 with `ok: false`, as in a turn."""
    answer = await tools_logic.execute(platform, caller, body)
    if answer.status == "running":
        response.status_code = status.HTTP_202_ACCEPTED
    return answer
