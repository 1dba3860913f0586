"""`console_users`, `assistant_conversations`, `assistant_messages` and `assistant_config` (seed
002). A conversation belongs to its owner (a console user or an API key, `owner`): nobody else
lists, reads, deletes or chats in it. A message a turn writes carries the turn's job id and its
place in the turn, unique together, so a retried activity writes it once.

Learned APIs (`assistant_learned_apis`, their operations in `assistant_learned_operations`, each a
tool) and webhooks (`assistant_webhooks`, each delivery attempt in `assistant_webhook_attempts`)
keep secret *names* only: values live in Secret Manager."""

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


class LearnedApi(Base):
    """An API learned from its OpenAPI (3) or Swagger (2) document; its operations are tools.
    `credentials` names a Secret Manager secret (and how to send it), never a value."""

    __tablename__ = "assistant_learned_apis"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(24), unique=True)
    type: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(2000))
    base_url: Mapped[str] = mapped_column(String(2000))
    credentials: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    job_id: Mapped[str] = mapped_column(String(200), unique=True)
    learned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LearnedOperation(Base):
    """One operation of a learned API, offered as the tool `tool_name`: its parameters' JSON
    schema, and where each parameter goes (path, query, header, body)."""

    __tablename__ = "assistant_learned_operations"
    __table_args__ = (Index("ix_assistant_learned_operations_api", "api_id"),)

    tool_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    api_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("assistant_learned_apis.id", ondelete="CASCADE")
    )
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(1000))
    description: Mapped[str] = mapped_column(String(1000))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    locations: Mapped[dict[str, Any]] = mapped_column(JSON)


class Webhook(Base):
    """A receiver of events: its URL and events; the signing secret is in Secret Manager under
    `secret_name`, never here."""

    __tablename__ = "assistant_webhooks"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON)
    secret_name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebhookAttempt(Base):
    """One attempt of one delivery (an event to a webhook), kept whatever it answered."""

    __tablename__ = "assistant_webhook_attempts"
    __table_args__ = (
        UniqueConstraint("delivery_id", "attempt", name="uq_assistant_webhook_attempts"),
        Index("ix_assistant_webhook_attempts_webhook", "webhook_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(LOG_ID, primary_key=True, autoincrement=True)
    webhook_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("assistant_webhooks.id", ondelete="CASCADE")
    )
    delivery_id: Mapped[str] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(300))
    attempt: Mapped[int] = mapped_column(Integer)
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # delivered | failed (this attempt; the next may follow) | refused (the guard said no)
    outcome: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
