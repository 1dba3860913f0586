"""Conversations and their messages as stored, always read and written through their owner."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from store.assistant.models import Conversation, Message
from store.models import utcnow


async def create(
    session: AsyncSession, conversation_id: str, owner: str, title: str
) -> Conversation:
    row = Conversation(id=conversation_id, owner=owner, title=title)
    session.add(row)
    await session.flush()
    return row


async def listed(
    session: AsyncSession, owner: str, limit: int, offset: int
) -> list[tuple[Conversation, int]]:
    """The owner's conversations, the latest updated first, each with its number of messages
    (user and assistant messages: tool results are part of the assistant's)."""
    counts = (
        select(Message.conversation_id, func.count().label("n"))
        .where(Message.role.in_(("user", "assistant")))
        .group_by(Message.conversation_id)
        .subquery()
    )
    rows = await session.execute(
        select(Conversation, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.conversation_id == Conversation.id)
        .where(Conversation.owner == owner)
        .order_by(Conversation.updated_at.desc(), Conversation.id)
        .limit(limit)
        .offset(offset)
    )
    return [(conversation, int(count)) for conversation, count in rows.all()]


async def find(session: AsyncSession, conversation_id: str, owner: str) -> Conversation | None:
    row = await session.get(Conversation, conversation_id)
    return row if row is not None and row.owner == owner else None


async def messages(
    session: AsyncSession,
    conversation_id: str,
    last: int | None = None,
    exclude_turn: str | None = None,
) -> list[Message]:
    """The conversation's messages in order; with `last`, only the latest `last`; without those of
    the turn `exclude_turn` (a turn reading the conversation before its own messages)."""
    query = select(Message).where(Message.conversation_id == conversation_id)
    if exclude_turn is not None:
        query = query.where(Message.turn_id != exclude_turn)
    if last is None:
        result = await session.scalars(query.order_by(Message.id))
        return list(result.all())
    result = await session.scalars(query.order_by(Message.id.desc()).limit(last))
    return list(reversed(result.all()))


async def remove(session: AsyncSession, conversation_id: str, owner: str) -> bool:
    if await find(session, conversation_id, owner) is None:
        return False
    await session.execute(delete(Message).where(Message.conversation_id == conversation_id))
    await session.execute(delete(Conversation).where(Conversation.id == conversation_id))
    return True


async def append(
    session: AsyncSession, conversation_id: str, turn_id: str, rows: Sequence[dict[str, Any]]
) -> bool:
    """Writes a turn's messages (each with its `seq`) unless already there (a retried write), and
    touches the conversation. False when the conversation is gone (deleted meanwhile)."""
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        return False
    now = utcnow()
    values = [
        {**row, "conversation_id": conversation_id, "turn_id": turn_id, "created_at": now}
        for row in rows
    ]
    if values:
        dialect = session.bind.dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        await session.execute(
            insert(Message).values(values).on_conflict_do_nothing(index_elements=["turn_id", "seq"])
        )
    conversation.updated_at = now
    return True


async def take_back(
    session: AsyncSession, conversation_id: str, turn_id: str, seqs: list[int]
) -> int:
    """Removes a turn's messages at those places (a failed or cancelled turn's undo of its
    answer); how many there were."""
    result = await session.execute(
        delete(Message).where(
            Message.conversation_id == conversation_id,
            Message.turn_id == turn_id,
            Message.seq.in_(seqs),
        )
    )
    return result.rowcount or 0
