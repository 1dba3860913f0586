"""Seed-003 tables. Columns keep the seed's Spanish names (`nombre`, `activo`, `auto_crear_campos`,
`nombre_campo`, `tipo_dato`, `es_requerido`, `datos`, `cuenta_id`) so existing integrations read
them as documented; table names carry a `crm_` prefix because the platform's database is shared by
five systems."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from store.models import Base, Timestamps, utcnow


class Cuenta(Timestamps, Base):
    """A CRM account. Its ingest key is stored as a SHA-256 only; the key itself is shown once."""

    __tablename__ = "crm_cuentas"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    nombre: Mapped[str] = mapped_column(String(255))
    api_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    api_key_prefix: Mapped[str] = mapped_column(String(16))
    activo: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    auto_crear_campos: Mapped[bool] = mapped_column(Boolean, default=True)


class Campo(Base):
    """A field an account's payloads carry; one per (account, name), enforced by the database so
    concurrent ingests introducing the same new field create it once."""

    __tablename__ = "crm_campos"
    __table_args__ = (UniqueConstraint("cuenta_id", "nombre_campo", name="uq_crm_campos_nombre"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    cuenta_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("crm_cuentas.id", ondelete="CASCADE")
    )
    nombre_campo: Mapped[str] = mapped_column(String(100))
    tipo_dato: Mapped[str] = mapped_column(String(16), default="string")
    descripcion: Mapped[str | None] = mapped_column(Text)
    es_requerido: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Record(Base):
    """The raw payload exactly as received, with where it came from."""

    __tablename__ = "crm_records"
    __table_args__ = (Index("ix_crm_records_cuenta_created", "cuenta_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    cuenta_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("crm_cuentas.id", ondelete="CASCADE")
    )
    datos: Mapped[dict[str, Any]] = mapped_column(JSON)
    # "metadata" is reserved on declarative classes; the column and the API keep the seed's names.
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Lead(Base):
    """The lead a record became: the payload's values for the account's known fields."""

    __tablename__ = "crm_leads"
    __table_args__ = (Index("ix_crm_leads_cuenta_created", "cuenta_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    cuenta_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("crm_cuentas.id", ondelete="CASCADE")
    )
    record_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("crm_records.id", ondelete="CASCADE"), unique=True
    )
    datos: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Delivery(Base):
    """One webhook delivery identified by its Idempotency-Key (or the CRM's delivery id): written in
    the ingest's own transaction, so a retry finds either nothing or the first answer."""

    __tablename__ = "crm_deliveries"

    cuenta_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("crm_cuentas.id", ondelete="CASCADE"), primary_key=True
    )
    delivery_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
