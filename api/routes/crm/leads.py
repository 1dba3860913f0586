"""An account's leads and raw records (seed 003): pages newest first, and one by id."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path

from api.deps import DbDep
from api.errors import ApiError
from api.http import JsonRouter
from api.routes.crm.common import AccountId, CrmAdmin, Page, PageSize, account_or_404
from api.schemas.crm.admin import LeadResponse, RecordResponse
from api.schemas.crm.admin import Page as PageOf
from store.crm import ingest
from store.crm.models import Lead, Record

router = JsonRouter(prefix="/api/v1/admin", tags=["crm leads and records"])

LeadId = Annotated[uuid.UUID, Path(description="The lead's id (a UUID).")]
RecordId = Annotated[uuid.UUID, Path(description="The record's id (a UUID).")]


@router.get("/accounts/{account_id}/leads", response_model=PageOf[LeadResponse])
async def list_leads(
    account_id: AccountId,
    _: CrmAdmin,
    db: DbDep,
    page: Page = 1,
    page_size: PageSize = 20,
) -> PageOf[LeadResponse]:
    async with db.transaction() as session:
        await account_or_404(session, account_id)
        rows, total = await ingest.page_of(session, Lead, account_id, page, page_size)
        items = [LeadResponse.model_validate(r, from_attributes=True) for r in rows]
    return PageOf[LeadResponse](items=items, total=total, page=page, page_size=page_size)


@router.get("/leads/{lead_id}", response_model=LeadResponse)
async def get_lead(lead_id: LeadId, _: CrmAdmin, db: DbDep) -> LeadResponse:
    async with db.transaction() as session:
        row = await session.get(Lead, lead_id)
        if row is None:
            raise ApiError(404, "Lead not found", details={"lead_id": str(lead_id)})
        return LeadResponse.model_validate(row, from_attributes=True)


@router.get("/accounts/{account_id}/records", response_model=PageOf[RecordResponse])
async def list_records(
    account_id: AccountId,
    _: CrmAdmin,
    db: DbDep,
    page: Page = 1,
    page_size: PageSize = 20,
) -> PageOf[RecordResponse]:
    async with db.transaction() as session:
        await account_or_404(session, account_id)
        rows, total = await ingest.page_of(session, Record, account_id, page, page_size)
        items = [RecordResponse.model_validate(r, from_attributes=True) for r in rows]
    return PageOf[RecordResponse](items=items, total=total, page=page, page_size=page_size)


@router.get("/records/{record_id}", response_model=RecordResponse)
async def get_record(record_id: RecordId, _: CrmAdmin, db: DbDep) -> RecordResponse:
    async with db.transaction() as session:
        row = await session.get(Record, record_id)
        if row is None:
            raise ApiError(404, "Record not found", details={"record_id": str(record_id)})
        return RecordResponse.model_validate(row, from_attributes=True)
