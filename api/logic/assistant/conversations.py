"""Conversations of one owner: create (`conv_…` ids), list with message counts, read with the
messages and their tool calls, delete."""

from __future__ import annotations

import json
import secrets
from typing import Any

from api.errors import not_found
from api.schemas.assistant.conversations import (
    ConversationDetail,
    ConversationList,
    ConversationSummary,
    MessageView,
    ToolCallView,
)
from store.assistant import conversations as store
from store.assistant.models import Message
from store.db import Database


def new_id() -> str:
    return "conv_" + secrets.token_hex(12)


async def create(db: Database, owner: str, title: str) -> ConversationSummary:
    async with db.transaction() as session:
        row = await store.create(session, new_id(), owner, title)
        return ConversationSummary(
            id=row.id,
            title=row.title,
            created_at=row.created_at,
            updated_at=row.updated_at,
            message_count=0,
        )


async def listed(db: Database, owner: str, limit: int, offset: int) -> ConversationList:
    async with db.transaction() as session:
        rows = await store.listed(session, owner, limit, offset)
    return ConversationList(
        conversations=[
            ConversationSummary(
                id=row.id,
                title=row.title,
                created_at=row.created_at,
                updated_at=row.updated_at,
                message_count=count,
            )
            for row, count in rows
        ]
    )


async def detail(db: Database, owner: str, conversation_id: str) -> ConversationDetail:
    async with db.transaction() as session:
        row = await store.find(session, conversation_id, owner)
        if row is None:
            raise not_found("conversation", conversation_id=conversation_id)
        messages = await store.messages(session, conversation_id)
    return ConversationDetail(
        id=row.id,
        title=row.title,
        created_at=row.created_at,
        updated_at=row.updated_at,
        messages=[message_view(m) for m in messages if m.role in ("user", "assistant")],
    )


async def ensure_owned(db: Database, owner: str, conversation_id: str) -> None:
    async with db.transaction() as session:
        if await store.find(session, conversation_id, owner) is None:
            raise not_found("conversation", conversation_id=conversation_id)


async def delete(db: Database, owner: str, conversation_id: str) -> None:
    async with db.transaction() as session:
        if not await store.remove(session, conversation_id, owner):
            raise not_found("conversation", conversation_id=conversation_id)


def message_view(row: Message) -> MessageView:
    calls = None
    if row.tool_calls:
        calls = [tool_call_view(call) for call in row.tool_calls]
    return MessageView(
        role=row.role,  # type: ignore[arg-type]
        content=row.content or "",
        timestamp=row.created_at,
        tool_calls=calls,
    )


def tool_call_view(call: dict[str, Any]) -> ToolCallView:
    return ToolCallView(
        id=call["id"],
        name=call["name"],
        arguments=_json_or_text(call.get("arguments", "{}")),
        ok=call.get("ok", False),
        result=_json_or_text(call.get("result", "")),
    )


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return text
