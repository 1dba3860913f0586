"""Seed-000 tables. They keep the seed's names and columns so a Supabase project reads as is."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from store.models import Base, Timestamps, utcnow


class Customer(Timestamps, Base):
    __tablename__ = "customers"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    prefix: Mapped[str] = mapped_column(String(32), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    jira_project_key: Mapped[str | None] = mapped_column(String(32))
    jira_project_id: Mapped[str | None] = mapped_column(String(64))
    jira_sd_id: Mapped[str | None] = mapped_column(String(64))
    jira_group_id: Mapped[str | None] = mapped_column(String(128))
    litellm_user_id: Mapped[str | None] = mapped_column(String(128))
    litellm_api_key_secret: Mapped[str | None] = mapped_column(String(255))
    zenml_workspace_id: Mapped[str | None] = mapped_column(String(128))
    zenml_workspace_url: Mapped[str | None] = mapped_column(String(512))
    zenml_credentials_secret: Mapped[str | None] = mapped_column(String(255))
    # Per provisioning: null (not requested), pending, ready or failed (+ why), written by the
    # OnboardCustomer job through its activities.
    jira_status: Mapped[str | None] = mapped_column(String(16))
    jira_reason: Mapped[str | None] = mapped_column(Text)
    litellm_status: Mapped[str | None] = mapped_column(String(16))
    litellm_reason: Mapped[str | None] = mapped_column(Text)
    zenml_status: Mapped[str | None] = mapped_column(String(16))
    zenml_reason: Mapped[str | None] = mapped_column(Text)
    # The OnboardCustomer job that owns this record: its compensation removes only its own record,
    # and a POST repeated with the same Idempotency-Key finds its job here.
    onboarding_job_id: Mapped[str | None] = mapped_column(String(128))


class ServiceRecord(Timestamps, Base):
    """The platform's registry of the Cloud Run services it deployed."""

    __tablename__ = "services"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(63), unique=True, index=True)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    type: Mapped[str] = mapped_column(String(32), default="cloud_run")
    category: Mapped[str] = mapped_column(String(16), default="managed")
    region: Mapped[str] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(String(512))
    image: Mapped[str | None] = mapped_column(String(1024))
    status: Mapped[str] = mapped_column(String(32), default="Running")
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    deployed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ExternalService(Timestamps, Base):
    __tablename__ = "external_services"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(128), unique=True, index=True)
    type: Mapped[str] = mapped_column(String(32), index=True)
    url: Mapped[str | None] = mapped_column(String(1024))
    cloud_console: Mapped[str | None] = mapped_column(String(1024))
    # "metadata" is reserved on declarative classes; the column keeps the seed's name.
    service_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    secret_refs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    health_status: Mapped[str | None] = mapped_column(String(16))
    last_health_check: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SecretAccessAudit(Base):
    """Who read which secret value, and when. Never the value."""

    __tablename__ = "secret_access_audit"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    secret_name: Mapped[str] = mapped_column(String(255), index=True)
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    api_key_name: Mapped[str | None] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32), default="read_value")
    accessed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    detail: Mapped[str | None] = mapped_column(Text)
