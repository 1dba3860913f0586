"""Accounts, fields, leads and records as the seed documents them (Spanish names kept)."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.base import FromString, RequestModel
from api.schemas.types import UtcDateTime

# No control characters: PostgreSQL text refuses NUL, and none belongs in a name.
_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
Nombre = Annotated[str, Field(min_length=1, max_length=255, pattern=_PRINTABLE)]
NombreCampo = Annotated[str, Field(min_length=1, max_length=100, pattern=_PRINTABLE)]
Descripcion = Annotated[str, Field(max_length=2000, pattern=r"^[^\x00]*$")]


class TipoDato(StrEnum):
    STRING = "string"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    EMAIL = "email"
    PHONE = "phone"


class AccountCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"nombre": "Mi Empresa", "auto_crear_campos": True}]}
    )

    nombre: Nombre
    auto_crear_campos: bool = True


class AccountUpdate(RequestModel):
    """Every field optional: only those sent change."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"nombre": "Nuevo Nombre", "activo": True, "auto_crear_campos": False}]
        }
    )

    nombre: Nombre | None = None
    activo: bool | None = None
    auto_crear_campos: bool | None = None


class AccountResponse(BaseModel):
    id: uuid.UUID
    nombre: str
    # The key in clear exists only in the answer that creates it (account creation, rotation):
    # the platform keeps its hash. Elsewhere it is null and `api_key_prefix` tells keys apart.
    api_key: str | None = None
    api_key_prefix: str
    activo: bool
    auto_crear_campos: bool
    created_at: UtcDateTime
    updated_at: UtcDateTime


class FieldCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "nombre_campo": "empresa",
                    "tipo_dato": "string",
                    "descripcion": "Nombre de la empresa",
                    "es_requerido": False,
                }
            ]
        }
    )

    nombre_campo: NombreCampo
    tipo_dato: Annotated[TipoDato, FromString] = TipoDato.STRING
    descripcion: Descripcion | None = None
    es_requerido: bool = False


class FieldUpdate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"tipo_dato": "email", "descripcion": "Correo electronico", "es_requerido": True}
            ]
        }
    )

    tipo_dato: Annotated[TipoDato, FromString] | None = None
    descripcion: Descripcion | None = None
    es_requerido: bool | None = None


class FieldResponse(BaseModel):
    id: uuid.UUID
    cuenta_id: uuid.UUID
    nombre_campo: str
    tipo_dato: str
    descripcion: str | None
    es_requerido: bool
    created_at: UtcDateTime


class LeadResponse(BaseModel):
    id: uuid.UUID
    cuenta_id: uuid.UUID
    record_id: uuid.UUID
    datos: dict[str, Any]
    created_at: UtcDateTime


class RecordResponse(BaseModel):
    id: uuid.UUID
    cuenta_id: uuid.UUID
    datos: dict[str, Any]
    metadata_: dict[str, Any]
    created_at: UtcDateTime


Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    """`items` and `total` as the seed documents; `page` and `page_size` echo the request."""

    items: list[Item]
    total: int
    page: int
    page_size: int
