"""Tables every system shares: the declarative base, timestamps, the API keys and the recorded job
log lines. Each system keeps its own tables in `store/<system>/models.py`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(128))
    key_prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# 64-bit on PostgreSQL; SQLite's AUTOINCREMENT needs the column to be its INTEGER rowid (64-bit too).
LOG_ID = BigInteger().with_variant(Integer(), "sqlite")


class JobLogLine(Base):
    """One line a job logged, in the order the platform recorded it: `id` is the durable offset a
    log stream resumes from (`Last-Event-ID`), `line_no` the line's place in its job's own log."""

    __tablename__ = "job_log_lines"
    __table_args__ = (
        UniqueConstraint("job_id", "line_no", name="uq_job_log_lines_job_line"),
        Index("ix_job_log_lines_job", "job_id", "id"),
        # AUTOINCREMENT on SQLite: an id is never used again, even after the newest row is deleted.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(LOG_ID, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(String(200))
    line_no: Mapped[int] = mapped_column(Integer)
    line: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class JobLogCursor(Base):
    """How far a job's log has been recorded: the number of lines and the last one (to find the
    place again once the workflow's bounded log has dropped its oldest lines), and whether the job
    had ended when it was read (then it is never read again)."""

    __tablename__ = "job_log_cursors"

    job_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    line_count: Mapped[int] = mapped_column(Integer, default=0)
    last_line: Mapped[str | None] = mapped_column(Text)
    ended: Mapped[bool] = mapped_column(Boolean, default=False)
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
