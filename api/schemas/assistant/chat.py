"""`POST /api/chat` (seed 002), `GET /api/tools` and `POST /api/tools/execute`."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.assistant.conversations import CONVERSATION_ID_PATTERN, MessageView
from api.schemas.base import RequestModel
from contracts.assistant.turn import MAX_CONTENT


class ChatRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"conversation_id": "conv_123", "message": "Lista los jobs", "stream": False}
            ]
        }
    )

    conversation_id: str = Field(pattern=CONVERSATION_ID_PATTERN)
    message: str = Field(min_length=1, max_length=MAX_CONTENT)
    stream: bool = Field(
        default=False,
        description="`true`: the turn's events as Server-Sent Events while they happen "
        "(`thinking`, `tool_call`, `approval_required`, `tool_result`, `message`, `done` or "
        "`error`), each with an `id`; resume with `GET /api/chat/turns/{job_id}/events` and "
        "`Last-Event-ID`. `false`: the answer whole.",
    )


class ChatResponse(BaseModel):
    conversation_id: str
    job_id: str = Field(description="The turn's job (an AssistantTurn workflow).")
    status: Literal["completed", "running"]
    message: MessageView | None = Field(
        default=None, description="The answer with its tool calls; null while still running."
    )


class ToolView(BaseModel):
    name: str
    description: str
    category: str
    parameters: dict[str, Any]
    mutating: bool = Field(
        description="Changes things: refused under `read_only`, approved in chat under `semi`."
    )
    enabled: bool = Field(
        description="Offered to the model now: a cloud tool only while its provider is enabled."
    )


class ToolList(BaseModel):
    tools: list[ToolView]


class ToolExecuteRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"tool": "list_ec2_instances", "parameters": {"region": "us-east-1"}}]
        }
    )

    tool: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="Checked by the tool's `parameters` schema."
    )


class ToolExecution(BaseModel):
    tool: str
    job_id: str = Field(description="The run's job (an AssistantToolRun workflow).")
    status: Literal["completed", "running"]
    ok: bool | None = Field(
        default=None, description="False when the tool refused the call (its answer says why)."
    )
    result: Any = Field(
        default=None,
        description="What the tool answered (JSON when it is JSON), as the model "
        "would read it in a chat turn.",
    )


class ApprovalRequest(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"approve": True}]})

    approve: bool = Field(description="`true` runs the tool call, `false` refuses it.")


class ApprovalResponse(BaseModel):
    approval_id: str
    status: Literal["approved", "rejected"]
