"""CRM accounts (seed 003): create (the key shown once), list the active ones, read, update,
soft-delete, toggle field auto-creation, and rotate the key (the platform's addition: keys are
stored hashed, so a lost key is replaced, never shown again)."""

from __future__ import annotations

from fastapi import Response, status

from api.deps import DbDep
from api.errors import answers
from api.http import JsonRouter
from api.logic.crm.reads import account_or_404
from api.routes.crm.common import AccountId, CrmAdmin, Page, PageSize
from api.schemas.crm.admin import AccountCreate, AccountResponse, AccountUpdate
from api.schemas.crm.admin import Page as PageOf
from store.crm import accounts

router = JsonRouter(prefix="/api/v1/admin/accounts", tags=["crm accounts"], responses=answers(503))


def _view(row, key: str | None = None) -> AccountResponse:
    view = AccountResponse.model_validate(row, from_attributes=True)
    view.api_key = key
    return view


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AccountResponse)
async def create_account(body: AccountCreate, _: CrmAdmin, db: DbDep) -> AccountResponse:
    """The answer carries `api_key` in clear, the only time it is shown."""
    async with db.transaction() as session:
        row, key = await accounts.create(session, body.nombre, body.auto_crear_campos)
    return _view(row, key)


@router.get("", response_model=PageOf[AccountResponse])
async def list_accounts(
    _: CrmAdmin, db: DbDep, page: Page = 1, page_size: PageSize = 20
) -> PageOf[AccountResponse]:
    """Active accounts, newest first."""
    async with db.transaction() as session:
        rows, total = await accounts.page_active(session, page, page_size)
        items = [_view(row) for row in rows]
    return PageOf[AccountResponse](items=items, total=total, page=page, page_size=page_size)


@router.get("/{account_id}", response_model=AccountResponse)
async def get_account(account_id: AccountId, _: CrmAdmin, db: DbDep) -> AccountResponse:
    """Inactive (soft-deleted) accounts too, so they can be seen and reactivated."""
    async with db.transaction() as session:
        return _view(await account_or_404(session, account_id))


@router.put("/{account_id}", response_model=AccountResponse)
async def update_account(
    account_id: AccountId, body: AccountUpdate, _: CrmAdmin, db: DbDep
) -> AccountResponse:
    """Only the fields sent change; `null` is taken as "leave it"."""
    changes = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None}
    async with db.transaction() as session:
        row = await accounts.update(session, await account_or_404(session, account_id), changes)
        return _view(row)


@router.delete("/{account_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_account(account_id: AccountId, _: CrmAdmin, db: DbDep) -> Response:
    """Soft delete (`activo=false`): its key stops ingesting, its data stays. Repeatable."""
    async with db.transaction() as session:
        row = await account_or_404(session, account_id)
        if row.activo:
            await accounts.update(session, row, {"activo": False})
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch("/{account_id}/toggle-auto-create", response_model=AccountResponse)
async def toggle_auto_create(account_id: AccountId, _: CrmAdmin, db: DbDep) -> AccountResponse:
    async with db.transaction() as session:
        row = await account_or_404(session, account_id)
        await accounts.update(session, row, {"auto_crear_campos": not row.auto_crear_campos})
        return _view(row)


@router.post("/{account_id}/rotate-key", response_model=AccountResponse)
async def rotate_key(account_id: AccountId, _: CrmAdmin, db: DbDep) -> AccountResponse:
    """A new key, shown once in this answer; the old one stops working at once."""
    async with db.transaction() as session:
        row = await account_or_404(session, account_id)
        key = await accounts.rotate_key(session, row)
        return _view(row, key)
