"""`audit_events` (one row per mutating API call made with a platform API key) and `alerts` (what
the JobReaper schedule raised: overdue jobs, failed compensations)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from store.models import Base, utcnow


class AuditEvent(Base):
    """Who did what, when, and how it ended. Never a body: bodies may carry secrets."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_occurred", "occurred_at"),
        Index("ix_audit_events_actor", "actor_name", "occurred_at"),
        Index("ix_audit_events_resource", "resource", "occurred_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor_name: Mapped[str] = mapped_column(String(128))
    request_id: Mapped[str] = mapped_column(String(128))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    resource: Mapped[str] = mapped_column(String(300))
    comment: Mapped[str | None] = mapped_column(String(1000))
    status_code: Mapped[int] = mapped_column(Integer)
    job_id: Mapped[str | None] = mapped_column(String(200))


class Alert(Base):
    """One per (kind, job): the reaper raising it again changes nothing. An overdue alert gets its
    `resolved_at` when the job has ended."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("kind", "job_id", name="uq_alerts_kind_job"),
        Index("ix_alerts_raised", "raised_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(32))
    job_id: Mapped[str] = mapped_column(String(200))
    workflow_type: Mapped[str] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(String(1000))
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
