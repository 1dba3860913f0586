"""An account's leads and raw records (seed 003): pages newest first, and one by id."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Path

from api.deps import DbDep
from api.http import JsonRouter
from api.logic.crm import reads
from api.routes.crm.common import AccountId, CrmAdmin, Page, PageSize
from api.schemas.crm.admin import LeadResponse, RecordResponse
from api.schemas.crm.admin import Page as PageOf
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
    return await reads.page_of(db, Lead, LeadResponse, account_id, page, page_size)


@router.get("/leads/{lead_id}", response_model=LeadResponse)
async def get_lead(lead_id: LeadId, _: CrmAdmin, db: DbDep) -> LeadResponse:
    return await reads.one(db, Lead, LeadResponse, lead_id)


@router.get("/accounts/{account_id}/records", response_model=PageOf[RecordResponse])
async def list_records(
    account_id: AccountId,
    _: CrmAdmin,
    db: DbDep,
    page: Page = 1,
    page_size: PageSize = 20,
) -> PageOf[RecordResponse]:
    return await reads.page_of(db, Record, RecordResponse, account_id, page, page_size)


@router.get("/records/{record_id}", response_model=RecordResponse)
async def get_record(record_id: RecordId, _: CrmAdmin, db: DbDep) -> RecordResponse:
    return await reads.one(db, Record, RecordResponse, record_id)
