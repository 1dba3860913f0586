"""`POST /api/chat` (one turn, answered whole for now) and `GET /api/tools` (seed 002)."""

from __future__ import annotations

from fastapi import Response, status

from api.errors import answers
from api.http import JsonRouter
from api.logic.assistant import chat as logic
from api.routes.assistant.common import ANSWERS, AssistantCaller, Platform
from api.schemas.assistant.chat import ChatRequest, ChatResponse, ToolList, ToolView
from contracts.assistant.tools import TOOLS

router = JsonRouter(prefix="/api", tags=["assistant"], responses=ANSWERS)


@router.post(
    "/chat",
    response_model=ChatResponse,
    responses={
        **answers(404, 413, 415, 502, 503),
        202: {"model": ChatResponse, "description": "The turn still runs: follow its job."},
    },
)
async def chat(
    body: ChatRequest,
    caller: AssistantCaller,
    platform: Platform,
    response: Response,
) -> ChatResponse:
    """Runs one turn (an AssistantTurn job): 200 with the answer and its tool calls, or 202 with
    the job when it outlasts `assistant_turn_wait_seconds` (the answer is saved when it ends)."""
    answer = await logic.chat(platform, caller, body)
    if answer.status == "running":
        response.status_code = status.HTTP_202_ACCEPTED
    return answer


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
