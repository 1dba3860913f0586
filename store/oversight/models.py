"""`audit_events` (one row per mutating API call made with a platform API key), `alerts` (what
the JobReaper schedule raised: overdue jobs, failed compensations; and what the drift observer
raised: resources changed behind the platform's back) and `resource_states` (what the platform last
applied to each resource it manages, and what the drift observer last saw of it)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text, UniqueConstraint, Uuid
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
    # The resource an alert is about when it is not about a job (`service/<name>` for a drift; its
    # `job_id` is then the drift's own key, so one drift raises one alert).
    resource: Mapped[str | None] = mapped_column(String(300))
    # When its webhook event went out (activities/alert_events.py); None while it has not: an
    # activity that failed between raising and announcing leaves it to the next one that sees it.
    announced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ResourceState(Base):
    """One per managed resource (`kind` `service`, …): the configuration the platform last applied
    (the outside system's own JSON of it: secret references by name, never a value), and the drift
    observer's last look at it (`conditions`, `drift`)."""

    __tablename__ = "resource_states"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    region: Mapped[str | None] = mapped_column(String(64))
    # The customer prefix whose mark the resource carries (None: the platform's own).
    tenant: Mapped[str | None] = mapped_column(String(64))
    applied: Mapped[str | None] = mapped_column(Text)
    # Who may call it, as last applied (a Cloud Run service's invoker members, sorted): kept apart
    # from `applied` because Cloud Run keeps it apart (the IAM policy is not in the Service). None:
    # never recorded (deployed before it was, or not a kind that has one).
    applied_access: Mapped[list[str] | None] = mapped_column(JSON)
    applied_by_job: Mapped[str | None] = mapped_column(String(200))
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    observed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    conditions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    drift: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # The key of the alert raised for the drift seen now (None: in sync).
    drift_alert_key: Mapped[str | None] = mapped_column(String(200))
