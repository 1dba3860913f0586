"""Secrets behind the router: every call through `SecretStore`, in a thread, its failures mapped by
`api.cloud`; reading a value is authorized and audited here, before the value leaves."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from google.api_core import exceptions as gexc

from api.auth import Principal
from api.cloud import call_cloud
from api.errors import ApiError, not_found
from api.logic.provisioning.secret_access import SECRETS_SCOPE
from api.schemas.provisioning.secrets import SecretResponse, SecretScope
from core.settings import Settings
from providers.google.secret_manager import SecretMetadata, SecretStore
from store.db import Database
from store.provisioning import secret_audit

log = structlog.get_logger(__name__)
_LIST_WORKERS = 8


@dataclass
class SecretPage:
    secrets: list[SecretResponse]
    next_page_token: str | None
    total: int


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


async def create(settings: Settings, name: str, value: str, labels: dict[str, str]):
    def run() -> SecretResponse:
        store = SecretStore(settings)
        try:
            meta = store.create(name, value, labels)
        except gexc.Conflict:
            raise ApiError(409, f"secret '{name}' already exists", details={"name": name}) from None
        return _response(meta, _updated_after_write(store, meta, meta.created_at))

    return await call_cloud(f"creating secret {name}", run)


async def list_page(
    settings: Settings, labels: dict[str, str], limit: int, page_token: str | None
) -> SecretPage:
    def run() -> SecretPage:
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
            times = list(pool.map(store.updated_at, page.secrets))
        found = sorted(
            (_response(meta, at) for meta, at in zip(page.secrets, times, strict=True)),
            key=lambda s: s.name,
        )
        return SecretPage(found, page.next_page_token, page.total)

    return await call_cloud("listing secrets", run)


async def read(settings: Settings, name: str) -> SecretResponse:
    def run() -> SecretResponse | None:
        store = SecretStore(settings)
        meta = store.get(name)
        return None if meta is None else _response(meta, store.updated_at(meta))

    found = await call_cloud(f"reading secret {name}", run)
    if found is None:
        raise not_found("secret", name=name)
    return found


async def read_value(settings: Settings, db: Database, principal: Principal, name: str) -> str:
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
    try:
        value = await call_cloud(f"reading secret {name}", SecretStore(settings).access, name)
    except ApiError as error:
        await audit(secret_audit.NOT_FOUND if error.status == 404 else secret_audit.UPSTREAM_ERROR)
        if error.status == 404:
            raise not_found("secret", name=name) from None
        raise
    # Written before the value leaves: if the audit cannot be written, the value is not returned.
    await audit(secret_audit.OK)
    log.info("secret value read", secret=name, key_name=principal.name)
    return value


async def add_version(settings: Settings, name: str, value: str) -> SecretResponse:
    """A new version with the value; earlier versions stay in Secret Manager."""

    def run() -> SecretResponse | None:
        store = SecretStore(settings)
        meta = store.get(name)
        if meta is None:
            return None
        store.add_version(name, value)
        return _response(meta, _updated_after_write(store, meta, datetime.now(UTC)))

    updated = await call_cloud(f"updating secret {name}", run)
    if updated is None:
        raise not_found("secret", name=name)
    return updated


async def delete(settings: Settings, name: str) -> None:
    if not await call_cloud(f"deleting secret {name}", SecretStore(settings).delete, name):
        raise not_found("secret", name=name)
