"""A short-lived, per-process copy of what every ingest reads: the active account a key hash
belongs to, and the account's fields. Two SELECTs per delivery otherwise, for rows that change only
through the admin API.

Bounded in time: an entry lives `TTL_SECONDS`, so a change made by another process (another API
replica, a migration, psql) is seen within that bound; a deactivated account or a rotated key
stops ingesting within it. A change made through this process's admin API is seen at once: its
store functions mark the account on the session, and the entries go when that session commits
(and already when it marks them, so a read in between can at worst re-cache for one TTL).
Bounded in size: at most `MAX_ENTRIES` per map; when full, expired entries go, then all.

Only active accounts are cached: an unknown key and an inactive account's key both cost the same
database lookup, so their 404s still take the same time.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from sqlalchemy import event
from sqlalchemy.orm import Session

TTL_SECONDS = 2.0
MAX_ENTRIES = 10_000
_PENDING = "crm_cache_invalidate"


@dataclass(frozen=True, slots=True)
class AccountView:
    id: uuid.UUID
    auto_crear_campos: bool


# name -> es_requerido
Fields = dict[str, bool]

_accounts: dict[str, tuple[float, AccountView]] = {}
_fields: dict[uuid.UUID, tuple[float, Fields]] = {}


def _get(table: dict, key):
    entry = table.get(key)
    if entry is None:
        return None
    if entry[0] < time.monotonic():
        table.pop(key, None)
        return None
    return entry[1]


def _put(table: dict, key, value) -> None:
    now = time.monotonic()
    if len(table) >= MAX_ENTRIES:
        for stale in [k for k, (expires, _) in table.items() if expires < now]:
            del table[stale]
        if len(table) >= MAX_ENTRIES:
            table.clear()
    table[key] = (now + TTL_SECONDS, value)


def account(key_hash: str) -> AccountView | None:
    return _get(_accounts, key_hash)


def put_account(key_hash: str, view: AccountView) -> None:
    _put(_accounts, key_hash, view)


def fields(account_id: uuid.UUID) -> Fields | None:
    return _get(_fields, account_id)


def put_fields(account_id: uuid.UUID, value: Fields) -> None:
    _put(_fields, account_id, value)


def forget(account_id: uuid.UUID) -> None:
    """Drops the account's entries (every key hash that maps to it, and its fields)."""
    _fields.pop(account_id, None)
    for key_hash in [k for k, (_, view) in _accounts.items() if view.id == account_id]:
        _accounts.pop(key_hash, None)


def forget_fields(account_id: uuid.UUID) -> None:
    _fields.pop(account_id, None)


def clear() -> None:
    _accounts.clear()
    _fields.clear()


def forget_on_commit(session: Session, account_id: uuid.UUID) -> None:
    """For admin writes: drop the account's entries now and again once `session` commits, so no
    ingest keeps reading what the write changed."""
    forget(account_id)
    session.info.setdefault(_PENDING, set()).add(account_id)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    for account_id in session.info.pop(_PENDING, ()):
        forget(account_id)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    # Nothing changed; the entries were dropped already and refill on the next ingest.
    session.info.pop(_PENDING, None)
