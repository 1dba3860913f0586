"""Conversations (seed 002): list, create, read, delete; each caller sees only their own."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, status

from api.deps import DbDep
from api.errors import answers
from api.http import JsonRouter
from api.logic.assistant import conversations as logic
from api.logic.assistant import integrations
from api.routes.assistant.common import ANSWERS, AssistantCaller, Platform
from api.schemas.assistant.conversations import (
    CONVERSATION_ID_PATTERN,
    ConversationCreate,
    ConversationDetail,
    ConversationList,
    ConversationSummary,
)

router = JsonRouter(prefix="/api/conversations", tags=["assistant"], responses=ANSWERS)

# A default, not `| None`: the schema stays the model's (a null body is refused, as elsewhere).
_NO_BODY = ConversationCreate()
ConversationId = Annotated[str, Path(pattern=CONVERSATION_ID_PATTERN)]


@router.get("", response_model=ConversationList)
async def list_conversations(
    caller: AssistantCaller,
    db: DbDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ConversationList:
    """The caller's conversations, the latest updated first."""
    return await logic.listed(db, caller.owner, limit, offset)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ConversationSummary,
    responses=answers(413, 415),
)
async def create_conversation(
    caller: AssistantCaller, platform: Platform, body: ConversationCreate = _NO_BODY
) -> ConversationSummary:
    """The body is optional: without one the title is the seed's "Nueva conversación"."""
    created = await logic.create(platform.db, caller.owner, body.title)
    await integrations.conversation_created(platform, caller.owner, created.id)
    return created


@router.get("/{conversation_id}", response_model=ConversationDetail, responses=answers(404))
async def get_conversation(
    conversation_id: ConversationId, caller: AssistantCaller, db: DbDep
) -> ConversationDetail:
    return await logic.detail(db, caller.owner, conversation_id)


@router.delete("/{conversation_id}", status_code=status.HTTP_204_NO_CONTENT, responses=answers(404))
async def delete_conversation(
    conversation_id: ConversationId, caller: AssistantCaller, db: DbDep
) -> None:
    await logic.delete(db, caller.owner, conversation_id)
