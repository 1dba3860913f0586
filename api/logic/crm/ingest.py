"""One webhook delivery, written whole or not at all.

The record (raw payload + `metadata_`), its lead, the fields it introduces (auto-create on) and its
delivery key go in one transaction; the caller answers only after the commit. A delivery with an
Idempotency-Key (or the CRM's delivery id) is written with its answer in that same transaction, so
a retry, even one racing the first, finds the first answer rather than adding a second record.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import partial
from typing import Any

import structlog
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from api.errors import ApiError
from api.logic.crm.payload import check, infer_type
from store.crm import accounts, cache
from store.crm import ingest as store
from store.db import Database

log = structlog.get_logger(__name__)

MAX_DELIVERY_KEY = 255
# A deadlock or serialization failure rolled the whole transaction back: trying again is safe.
_RETRY_SQLSTATES = {"40P01", "40001"}
_ATTEMPTS = 3


def _not_found() -> ApiError:
    return ApiError(404, "Account not found or inactive")


def _request_hash(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(delivery, request_hash: str) -> dict[str, Any]:
    if delivery.request_hash != request_hash:
        raise ApiError(
            409,
            "this delivery key was already used with a different payload",
            code="idempotency_conflict",
        )
    return delivery.response


def _retryable(error: DBAPIError) -> bool:
    orig = error.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return state in _RETRY_SQLSTATES


def check_delivery_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not key or len(key) > MAX_DELIVERY_KEY or not key.isprintable():
        raise ApiError(
            400,
            f"the delivery key must have 1 to {MAX_DELIVERY_KEY} printable characters",
            details={"fields": [{"field": "Idempotency-Key", "message": "invalid"}]},
        )
    return key


async def ingest(
    db: Database,
    account_key: str,
    payload: dict[str, Any],
    *,
    source_ip: str | None,
    delivery_key: str | None,
) -> dict[str, Any]:
    check(payload)
    request_hash = _request_hash(payload) if delivery_key else ""
    write = partial(_write, account_key, payload, source_ip, delivery_key, request_hash)
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            written = await db.write(write)
        except IntegrityError:
            # The one unique row an ingest can collide on is its delivery: a concurrent retry of
            # the same delivery committed first. Its answer is this one's.
            if delivery_key is None:
                raise
            found = await db.write(partial(_stored_delivery, account_key, delivery_key))
            if not found:
                raise
            return _replay(found, request_hash)
        except DBAPIError as error:
            if attempt == _ATTEMPTS or not _retryable(error):
                raise
            log.info("crm ingest retried after a transaction conflict", attempt=attempt)
            continue
        response = written.response
        if written.fields_created:
            # Committed: the next ingest reads the account's fields again, new ones included.
            cache.forget_fields(written.account_id)
        if written.stored:
            log.info(
                "crm delivery stored",
                account_id=str(written.account_id),
                record_id=response["record_id"],
                fields_created=len(response["fields_created"]),
                unknown_fields=len(response["unknown_fields"]),
            )
        return response
    raise AssertionError("unreachable")


def _stored_delivery(account_key: str, delivery_key: str, conn: Connection):
    account = _account(conn, account_key)
    return account and store.delivery(conn, account.id, delivery_key)


def _account(conn: Connection, account_key: str) -> cache.AccountView | None:
    key_hash = accounts.hash_key(account_key)
    found = cache.account(key_hash)
    if found is None:
        found = store.account_by_hash(conn, key_hash)
        if found is not None:
            cache.put_account(key_hash, found)
    return found


def _fields(conn: Connection, account_id) -> cache.Fields:
    found = cache.fields(account_id)
    if found is None:
        found = store.fields_of(conn, account_id)
        cache.put_fields(account_id, found)
    return found


@dataclass(frozen=True, slots=True)
class _Written:
    response: dict[str, Any]
    account_id: Any = None
    # False when the delivery was already stored: its first answer is replayed.
    stored: bool = True
    fields_created: bool = False


def _write(
    account_key: str,
    payload: dict[str, Any],
    source_ip: str | None,
    delivery_key: str | None,
    request_hash: str,
    conn: Connection,
) -> _Written:
    account = _account(conn, account_key)
    if account is None:
        raise _not_found()
    if delivery_key is not None:
        found = store.delivery(conn, account.id, delivery_key)
        if found is not None:
            return _Written(_replay(found, request_hash), stored=False)
    fields = _fields(conn, account.id)
    missing = sorted(
        name for name, required in fields.items() if required and payload.get(name) is None
    )
    if missing:
        raise ApiError(
            400,
            f"required fields missing: {', '.join(missing)}",
            details={
                "missing": missing,
                "fields": [{"field": n, "message": "required"} for n in missing],
            },
        )
    new = [name for name in payload if name not in fields]
    created: list[str] = []
    unknown: list[str] = []
    if new and account.auto_crear_campos:
        # The cache may lack a field a concurrent ingest created: ON CONFLICT skips it, and
        # only the names this insert created are reported.
        created = store.create_fields(
            conn, account.id, [(name, infer_type(payload[name])) for name in new]
        )
        lead_datos = payload
    else:
        unknown = new
        lead_datos = {name: value for name, value in payload.items() if name in fields}
    metadata = {"source_ip": source_ip, "unknown_fields": unknown or None}
    record_id, lead_id = store.add_record_and_lead(conn, account.id, payload, metadata, lead_datos)
    response = {
        "success": True,
        "record_id": str(record_id),
        "lead_id": str(lead_id),
        "unknown_fields": unknown,
        "auto_create_enabled": account.auto_crear_campos,
        "fields_created": created,
    }
    if delivery_key is not None:
        store.add_delivery(conn, account.id, delivery_key, request_hash, response)
    return _Written(response, account.id, fields_created=bool(new and account.auto_crear_campos))
