"""Conversations (seed 002): list, create, read with messages and tool calls, delete."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.base import RequestModel
from api.schemas.types import UtcDateTime

CONVERSATION_ID_PATTERN = r"^conv_[A-Za-z0-9]{1,32}$"


class ConversationCreate(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"title": "Gestión de AWS"}]})

    title: str = Field(
        default="Nueva conversación",
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f]+$",
    )


class ConversationSummary(BaseModel):
    id: str
    title: str
    created_at: UtcDateTime
    updated_at: UtcDateTime
    message_count: int


class ConversationList(BaseModel):
    conversations: list[ConversationSummary]


class ToolCallView(BaseModel):
    id: str
    name: str
    arguments: dict[str, Any] | str = Field(
        description="The arguments the LLM gave (an object; the raw text if it was not JSON)."
    )
    ok: bool
    result: Any = Field(description="What the tool answered (JSON when it answered JSON).")


class MessageView(BaseModel):
    role: Literal["user", "assistant"]
    content: str
    timestamp: UtcDateTime
    tool_calls: list[ToolCallView] | None = None


class ConversationDetail(BaseModel):
    id: str
    title: str
    created_at: UtcDateTime
    updated_at: UtcDateTime
    messages: list[MessageView]
