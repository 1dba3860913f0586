"""Secrets in Secret Manager (seed 000 §5), every call through `SecretStore`.

- Metadata (name, scope, labels, times) is readable with the read scope; a value only through
  `GET /{name}/value`, which needs the secrets scope (admin implies it). Every attempt on that
  endpoint by an authenticated key is audited in `secret_access_audit` with its outcome (ok,
  not_found, denied, upstream_error), never the value; `GET /{name}/audit` (admin) lists the rows.
- Create is two upstream calls (the secret, then its first version). If the version fails, the
  secret just created is deleted again, so a failed create leaves nothing behind; a secret that
  already existed (409) is never touched.
- Values never reach logs, error messages or any other response.
"""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import Depends, Path, Query, Response, status

from api.auth import Admin, Principal, Reader, Writer, current_principal
from api.deps import DbDep, SettingsDep
from api.errors import answers
from api.http import JsonRouter
from api.logic.provisioning import secrets as logic
from api.schemas.provisioning.secrets import (
    CUSTOMER_PATTERN,
    SERVICE_PATTERN,
    ScopeValue,
    SecretAuditEntry,
    SecretCreateRequest,
    SecretResponse,
    SecretUpdateRequest,
    SecretValueResponse,
)
from providers.google.secret_manager import SECRET_NAME_PATTERN
from store.provisioning import secret_audit

router = JsonRouter(prefix="/api/v1/secrets", tags=["secrets"], responses=answers(502, 503))
log = structlog.get_logger(__name__)

SecretNamePath = Annotated[
    str,
    Path(
        pattern=SECRET_NAME_PATTERN,
        description="The full secret id (letters, digits, `_` and `-`, at most 255).",
    ),
]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SecretResponse,
    responses=answers(409),
)
async def create_secret(
    body: SecretCreateRequest, principal: Writer, settings: SettingsDep
) -> SecretResponse:
    created = await logic.create(settings, body.name, body.value, body.labels())
    log.info("secret created", secret=body.name, scope=body.scope.value, key_name=principal.name)
    return created


@router.get("", response_model=list[SecretResponse])
async def list_secrets(
    _: Reader,
    settings: SettingsDep,
    response: Response,
    scope: Annotated[ScopeValue | None, Query(description="Any letter case.")] = None,
    customer: Annotated[str | None, Query(pattern=CUSTOMER_PATTERN)] = None,
    service: Annotated[str | None, Query(pattern=SERVICE_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    page_token: Annotated[
        str | None,
        Query(max_length=1024, description="The `X-Next-Page-Token` of the previous page."),
    ] = None,
) -> list[SecretResponse]:
    """The seed's bare array, one page of it: `X-Total-Count` says how many secrets match, and
    `X-Next-Page-Token`, present while more follow, is the `page_token` for the next page."""
    labels = {"scope": scope.label if scope else None, "customer": customer, "service": service}
    page = await logic.list_page(
        settings, {k: v for k, v in labels.items() if v is not None}, limit, page_token
    )
    response.headers["X-Total-Count"] = str(page.total)
    if page.next_page_token:
        response.headers["X-Next-Page-Token"] = page.next_page_token
    return page.secrets


@router.get("/{name}", response_model=SecretResponse)
async def get_secret(name: SecretNamePath, _: Reader, settings: SettingsDep) -> SecretResponse:
    return await logic.read(settings, name)


@router.get("/{name}/value", response_model=SecretValueResponse)
async def get_secret_value(
    name: SecretNamePath,
    principal: Annotated[Principal, Depends(current_principal)],
    settings: SettingsDep,
    db: DbDep,
    response: Response,
) -> SecretValueResponse:
    """Needs the `secrets` scope. Every attempt is audited (who, which secret, when, outcome)."""
    value = await logic.read_value(settings, db, principal, name)
    response.headers["Cache-Control"] = "no-store"
    return SecretValueResponse(name=name, value=value)


@router.get("/{name}/audit", response_model=list[SecretAuditEntry])
async def get_secret_audit(
    name: SecretNamePath,
    _: Admin,
    db: DbDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[SecretAuditEntry]:
    """Who tried to read the value, newest first; kept after the secret is deleted."""
    async with db.transaction() as session:
        rows = await secret_audit.for_secret(session, name, limit)
        return [SecretAuditEntry.model_validate(row, from_attributes=True) for row in rows]


@router.put("/{name}", response_model=SecretResponse)
async def update_secret(
    name: SecretNamePath, body: SecretUpdateRequest, principal: Writer, settings: SettingsDep
) -> SecretResponse:
    """Adds a version with the new value; earlier versions stay in Secret Manager."""
    updated = await logic.add_version(settings, name, body.value)
    log.info("secret updated", secret=name, key_name=principal.name)
    return updated


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_secret(name: SecretNamePath, principal: Writer, settings: SettingsDep) -> Response:
    """Deletes the secret and all its versions."""
    await logic.delete(settings, name)
    log.info("secret deleted", secret=name, key_name=principal.name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
