"""API keys (admin scope): create (the key is shown once), list, revoke."""

from __future__ import annotations

import uuid

from fastapi import Request, Response, status
from sqlalchemy import select

from api.auth import Admin, key_cache
from api.deps import DbDep, KeyUsageDep
from api.errors import ApiError, answers, not_found
from api.http import JsonRouter
from api.schemas.api_keys import ApiKeyCreate, ApiKeyCreated, ApiKeyInfo
from store import api_keys
from store.models import ApiKey

router = JsonRouter(prefix="/api/v1/api-keys", tags=["api keys"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated)
async def create_api_key(
    body: ApiKeyCreate, _: Admin, db: DbDep, request: Request
) -> ApiKeyCreated:
    async with db.transaction() as session:
        row, key = await api_keys.create(session, body.name, list(body.scopes))
        info = ApiKeyInfo.model_validate(row, from_attributes=True)
    # The audit row names the key made, as the revoke's names the key revoked (its path).
    request.state.audit_resource = f"api-keys/{row.id}"
    return ApiKeyCreated(**info.model_dump(), key=key)


@router.get("", response_model=list[ApiKeyInfo])
async def list_api_keys(_: Admin, db: DbDep, usage: KeyUsageDep) -> list[ApiKeyInfo]:
    # This process's uses not yet written in their batch are shown too.
    if usage is not None:
        await usage.flush()
    async with db.transaction() as session:
        rows = (await session.scalars(select(ApiKey).order_by(ApiKey.created_at))).all()
        return [ApiKeyInfo.model_validate(row, from_attributes=True) for row in rows]


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        409: {**answers(409)[409], "description": "the last active admin key cannot be revoked"}
    },
)
async def revoke_api_key(key_id: uuid.UUID, _: Admin, db: DbDep) -> Response:
    """Revokes a key. The last active admin key is refused (409): mint another first, through
    `POST /api/v1/api-keys` or `make admin-key` on the machine."""
    try:
        async with db.transaction() as session:
            row = await api_keys.revoke(session, key_id)
            if row is None:
                raise not_found("API key", key_id=str(key_id))
    except api_keys.LastAdminKey:
        raise ApiError(
            409,
            "the last active admin key cannot be revoked; create another admin key first",
            code="last_admin_key",
            details={"key_id": str(key_id)},
        ) from None
    key_cache(db).clear()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
