"""`POST /api/chat` (one turn, answered whole or streamed as SSE), the turn's events again
(`GET /api/chat/turns/{job_id}/events`, resumable), approvals of tool calls, and `GET /api/tools`
(seed 002)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Path, Response, status
from fastapi.responses import StreamingResponse

from api import sse
from api.errors import answers
from api.http import JsonRouter
from api.logic.assistant import chat as logic
from api.routes.assistant.common import ANSWERS, AssistantCaller, Platform
from api.schemas.assistant.chat import (
    ApprovalRequest,
    ApprovalResponse,
    ChatRequest,
    ChatResponse,
    ToolList,
    ToolView,
)
from contracts.assistant.tools import TOOLS

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
            logic.sse_events(platform, job_id),
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
async def list_tools(_: AssistantCaller) -> ToolList:
    """The tools a turn may call; `parameters` is the JSON schema their calls are checked by."""
    return ToolList(
        tools=[
            ToolView(
                name=tool.name,
                description=tool.description,
                category=tool.category,
                parameters=tool.schema(),
            )
            for tool in TOOLS.values()
        ]
    )
