"""An account's fields (seed 003): list, create (409 on a name the account has), update, delete."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path, Response, status
from sqlalchemy.exc import IntegrityError

from api.deps import DbDep
from api.errors import ApiError, answers
from api.http import JsonRouter
from api.logic.crm.reads import account_or_404
from api.routes.crm.common import AccountId, CrmAdmin, FieldPageSize, Page
from api.schemas.crm.admin import FieldCreate, FieldResponse, FieldUpdate
from api.schemas.crm.admin import Page as PageOf
from store.crm import accounts

router = JsonRouter(prefix="/api/v1/admin", tags=["crm fields"], responses=answers(503))

FieldId = Annotated[uuid.UUID, Path(description="The field's id (a UUID).")]


def _duplicate(name: str) -> ApiError:
    return ApiError(409, "Field already exists for this account", details={"nombre_campo": name})


async def _field_or_404(session, field_id: uuid.UUID):
    row = await accounts.get_field(session, field_id)
    if row is None:
        raise ApiError(404, "Field not found", details={"field_id": str(field_id)})
    return row


@router.get("/accounts/{account_id}/fields", response_model=PageOf[FieldResponse])
async def list_fields(
    account_id: AccountId,
    _: CrmAdmin,
    db: DbDep,
    page: Page = 1,
    page_size: FieldPageSize = 50,
) -> PageOf[FieldResponse]:
    """Oldest first: the order they appeared in."""
    async with db.transaction() as session:
        await account_or_404(session, account_id)
        rows, total = await accounts.page_fields(session, account_id, page, page_size)
        items = [FieldResponse.model_validate(r, from_attributes=True) for r in rows]
    return PageOf[FieldResponse](items=items, total=total, page=page, page_size=page_size)


@router.post(
    "/accounts/{account_id}/fields",
    status_code=status.HTTP_201_CREATED,
    response_model=FieldResponse,
    responses=answers(409),
)
async def create_field(
    account_id: AccountId, body: FieldCreate, _: CrmAdmin, db: DbDep
) -> FieldResponse:
    try:
        async with db.transaction() as session:
            await account_or_404(session, account_id)
            if await accounts.field_named(session, account_id, body.nombre_campo):
                raise _duplicate(body.nombre_campo)
            row = await accounts.add_field(
                session,
                account_id,
                nombre_campo=body.nombre_campo,
                tipo_dato=body.tipo_dato.value,
                descripcion=body.descripcion,
                es_requerido=body.es_requerido,
            )
            return FieldResponse.model_validate(row, from_attributes=True)
    except IntegrityError:
        # An ingest created the same field between the check and the insert.
        raise _duplicate(body.nombre_campo) from None


@router.put("/fields/{field_id}", response_model=FieldResponse)
async def update_field(
    field_id: FieldId, body: FieldUpdate, _: CrmAdmin, db: DbDep
) -> FieldResponse:
    """Only the fields sent change; `descripcion: null` clears the description."""
    changes = body.model_dump(exclude_unset=True)
    if "tipo_dato" in changes:
        if changes["tipo_dato"] is None:
            del changes["tipo_dato"]
        else:
            changes["tipo_dato"] = changes["tipo_dato"].value
    if changes.get("es_requerido", False) is None:
        del changes["es_requerido"]
    async with db.transaction() as session:
        row = await accounts.update_field(session, await _field_or_404(session, field_id), changes)
        return FieldResponse.model_validate(row, from_attributes=True)


@router.delete("/fields/{field_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_field(field_id: FieldId, _: CrmAdmin, db: DbDep) -> Response:
    """Deleted for good; records that carried it keep their data."""
    async with db.transaction() as session:
        await accounts.delete_field(session, await _field_or_404(session, field_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
