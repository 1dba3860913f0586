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

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Annotated, TypeVar

import structlog
from fastapi import Depends, Path, Query, Response, status
from google.api_core import exceptions as gexc

from api.auth import Admin, Principal, Reader, Writer, current_principal
from api.cloud import call_cloud
from api.deps import DbDep, SettingsDep
from api.errors import ApiError, answers, not_found
from api.http import JsonRouter
from api.logic.provisioning.secret_access import SECRETS_SCOPE
from api.schemas.provisioning.secrets import (
    CUSTOMER_PATTERN,
    SERVICE_PATTERN,
    ScopeValue,
    SecretAuditEntry,
    SecretCreateRequest,
    SecretResponse,
    SecretScope,
    SecretUpdateRequest,
    SecretValueResponse,
)
from providers.google.secret_manager import SECRET_NAME_PATTERN, SecretMetadata, SecretStore
from store.provisioning import secret_audit

router = JsonRouter(prefix="/api/v1/secrets", tags=["secrets"], responses=answers(502, 503))
log = structlog.get_logger(__name__)

T = TypeVar("T")

SecretNamePath = Annotated[
    str,
    Path(
        pattern=SECRET_NAME_PATTERN,
        description="The full secret id (letters, digits, `_` and `-`, at most 255).",
    ),
]
_LIST_WORKERS = 8


def _updated_after_write(
    store: SecretStore, meta: SecretMetadata, fallback: datetime | None
) -> datetime | None:
    """The latest version's time once a write has succeeded: failing to read it must not turn a
    done write into an error the caller would retry, so it falls back instead."""
    try:
        return store.updated_at(meta) or fallback
    except gexc.GoogleAPICallError:
        return fallback


def _response(meta: SecretMetadata, updated_at: datetime | None) -> SecretResponse:
    return SecretResponse(
        name=meta.name,
        scope=SecretScope.from_label(meta.labels.get("scope")),
        labels=meta.labels,
        created_at=meta.created_at,
        updated_at=updated_at,
    )


def _read(store: SecretStore, name: str) -> SecretResponse | None:
    meta = store.get(name)
    return None if meta is None else _response(meta, store.updated_at(meta))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=SecretResponse,
    responses=answers(409),
)
async def create_secret(
    body: SecretCreateRequest, principal: Writer, settings: SettingsDep
) -> SecretResponse:
    name = body.name

    def create() -> SecretResponse:
        store = SecretStore(settings)
        try:
            meta = store.create(name, body.value, body.labels())
        except gexc.Conflict:
            raise ApiError(409, f"secret '{name}' already exists", details={"name": name}) from None
        return _response(meta, _updated_after_write(store, meta, meta.created_at))

    created = await call_cloud(f"creating secret {name}", create)
    log.info("secret created", secret=name, scope=body.scope.value, key_name=principal.name)
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
    labels: dict[str, str] = {}
    if scope is not None:
        labels["scope"] = scope.label
    if customer is not None:
        labels["customer"] = customer
    if service is not None:
        labels["service"] = service

    def read() -> tuple[list[SecretResponse], str | None, int]:
        store = SecretStore(settings)
        try:
            page = store.list_page(labels, limit, page_token)
        except gexc.BadRequest:
            if not page_token:
                raise
            raise ApiError(
                400,
                "invalid page_token: pass back an X-Next-Page-Token this API returned",
                details={"field": "page_token"},
            ) from None
        with ThreadPoolExecutor(max_workers=_LIST_WORKERS) as pool:
            times = list(pool.map(lambda meta: store.updated_at(meta), page.secrets))
        found = sorted(
            (_response(meta, at) for meta, at in zip(page.secrets, times, strict=True)),
            key=lambda s: s.name,
        )
        return found, page.next_page_token, page.total

    found, next_token, total = await call_cloud("listing secrets", read)
    response.headers["X-Total-Count"] = str(total)
    if next_token:
        response.headers["X-Next-Page-Token"] = next_token
    return found


@router.get("/{name}", response_model=SecretResponse)
async def get_secret(name: SecretNamePath, _: Reader, settings: SettingsDep) -> SecretResponse:
    found = await call_cloud(f"reading secret {name}", _read, SecretStore(settings), name)
    if found is None:
        raise not_found("secret", name=name)
    return found


@router.get("/{name}/value", response_model=SecretValueResponse)
async def get_secret_value(
    name: SecretNamePath,
    principal: Annotated[Principal, Depends(current_principal)],
    settings: SettingsDep,
    db: DbDep,
    response: Response,
) -> SecretValueResponse:
    """Needs the `secrets` scope. Every attempt is audited (who, which secret, when, outcome)."""

    async def audit(outcome: str) -> None:
        async with db.transaction() as session:
            await secret_audit.record(session, name, principal.key_id, principal.name, outcome)

    if not principal.has(SECRETS_SCOPE):
        await audit(secret_audit.DENIED)
        log.warning("secret value refused", secret=name, key_name=principal.name)
        raise ApiError(
            403,
            f"this API key lacks the '{SECRETS_SCOPE}' scope",
            details={"scope": SECRETS_SCOPE},
        )
    store = SecretStore(settings)
    try:
        value = await call_cloud(f"reading secret {name}", store.access, name)
    except ApiError as error:
        await audit(secret_audit.NOT_FOUND if error.status == 404 else secret_audit.UPSTREAM_ERROR)
        if error.status == 404:
            raise not_found("secret", name=name) from None
        raise
    # Written before the value leaves: if the audit cannot be written, the value is not returned.
    await audit(secret_audit.OK)
    log.info("secret value read", secret=name, key_name=principal.name)
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

    def update() -> SecretResponse | None:
        store = SecretStore(settings)
        meta = store.get(name)
        if meta is None:
            return None
        store.add_version(name, body.value)
        return _response(meta, _updated_after_write(store, meta, datetime.now(UTC)))

    updated = await call_cloud(f"updating secret {name}", update)
    if updated is None:
        raise not_found("secret", name=name)
    log.info("secret updated", secret=name, key_name=principal.name)
    return updated


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_secret(name: SecretNamePath, principal: Writer, settings: SettingsDep) -> Response:
    """Deletes the secret and all its versions."""
    if not await call_cloud(f"deleting secret {name}", SecretStore(settings).delete, name):
        raise not_found("secret", name=name)
    log.info("secret deleted", secret=name, key_name=principal.name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
