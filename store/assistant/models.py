"""`console_users`, `assistant_conversations`, `assistant_messages` and `assistant_config` (seed
002). A conversation belongs to its owner (a console user or an API key, `owner`): nobody else
lists, reads, deletes or chats in it. A message a turn writes carries the turn's job id and its
place in the turn, unique together, so a retried activity writes it once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from store.models import LOG_ID, Base, Timestamps, utcnow


class ConsoleUser(Base):
    """A person who logs in to the assistant console; the password is an argon2 hash."""

    __tablename__ = "console_users"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Conversation(Timestamps, Base):
    __tablename__ = "assistant_conversations"
    __table_args__ = (Index("ix_assistant_conversations_owner", "owner", "updated_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(200))


class Message(Base):
    __tablename__ = "assistant_messages"
    __table_args__ = (
        Index("ix_assistant_messages_conversation", "conversation_id", "id"),
        UniqueConstraint("turn_id", "seq", name="uq_assistant_messages_turn_seq"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(LOG_ID, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("assistant_conversations.id", ondelete="CASCADE")
    )
    turn_id: Mapped[str] = mapped_column(String(200))
    seq: Mapped[int] = mapped_column(Integer)
    # user | assistant | tool
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str | None] = mapped_column(Text)
    # An assistant message's calls: [{"id", "name", "arguments", "result"?}]; a tool message's id.
    tool_calls: Mapped[list[Any] | None] = mapped_column(JSON)
    tool_call_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AssistantConfig(Base):
    """The assistant's configuration, one document for the platform (`id` = "default")."""

    __tablename__ = "assistant_config"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
