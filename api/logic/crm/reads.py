"""What the CRM admin API reads: an account (404 when unknown), and its leads and records, a page
newest first or one by id."""

from __future__ import annotations

import uuid
from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import ApiError
from api.schemas.crm.admin import Page
from store.crm import accounts, ingest
from store.crm.models import Cuenta, Lead, Record
from store.db import Database

Shown = TypeVar("Shown", bound=BaseModel)


async def account_or_404(session: AsyncSession, account_id: uuid.UUID) -> Cuenta:
    row = await accounts.get(session, account_id)
    if row is None:
        raise ApiError(404, "Account not found", details={"account_id": str(account_id)})
    return row


async def page_of(
    db: Database,
    model: type[Lead] | type[Record],
    shown: type[Shown],
    account_id: uuid.UUID,
    page: int,
    page_size: int,
) -> Page[Shown]:
    async with db.transaction() as session:
        await account_or_404(session, account_id)
        rows, total = await ingest.page_of(session, model, account_id, page, page_size)
        items = [shown.model_validate(row, from_attributes=True) for row in rows]
    return Page[shown](items=items, total=total, page=page, page_size=page_size)


async def one(
    db: Database, model: type[Lead] | type[Record], shown: type[Shown], row_id: uuid.UUID
) -> Shown:
    async with db.transaction() as session:
        row = await session.get(model, row_id)
        if row is None:
            what = model.__name__.lower()
            raise ApiError(
                404, f"{what.capitalize()} not found", details={f"{what}_id": str(row_id)}
            )
        return shown.model_validate(row, from_attributes=True)
