"""API-key authentication (`X-API-Key` or `Authorization: Bearer`) and scope checks."""

from __future__ import annotations

import asyncio
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated

import structlog
from fastapi import Depends, Request
from fastapi.encoders import jsonable_encoder
from fastapi.security import APIKeyHeader, HTTPBearer
from starlette.datastructures import Headers

from api.errors import ApiError
from store import api_keys
from store.db import Database

log = structlog.get_logger(__name__)

SCOPES = ("read", "write", "admin", "secrets", "crm", "runners", "hosting", "assistant")
# A broader scope grants the narrower ones it contains.
_IMPLIES = {"admin": set(SCOPES), "write": {"read"}}

# How a key is presented, as the OpenAPI document declares it: either scheme is enough. The key is
# read by `presented_key`, not by these as dependencies: FastAPI solves each dependency of each
# request, and the two schemes cost a job start as much as its memo (issue 9). The routes that need
# a key declare the schemes through `JsonRoute` (api/http.py), which asks `needs_api_key`.
_SCHEMES = (
    APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="ApiKeyHeader"),
    HTTPBearer(auto_error=False, scheme_name="BearerApiKey"),
)
SECURITY_SCHEMES = {
    scheme.scheme_name: jsonable_encoder(scheme.model, by_alias=True, exclude_none=True)
    for scheme in _SCHEMES
}
SECURITY_REQUIREMENT = [{name: []} for name in SECURITY_SCHEMES]


@dataclass(frozen=True)
class Principal:
    key_id: uuid.UUID
    name: str
    scopes: frozenset[str]

    def has(self, scope: str) -> bool:
        return any(scope == s or scope in _IMPLIES.get(s, ()) for s in self.scopes)


class _PrincipalCache:
    """Keys seen in the last few seconds, so a burst of requests costs one lookup. One per database
    (`key_cache`): a principal names its key's row, and a process serving two platforms (the test
    suite's apps, each on its own database) must not hand one database's row id to the other,
    where it would derive another job id from the same Idempotency-Key. Per process, by
    design: the database is the one truth, and each process's cache is kept honest against it.
    Revoking through this process clears it at once; a key revoked anywhere else (another API
    process, psql) is dropped by `recheck`, which the API runs every `api_key_recheck_seconds`
    (1 s): one query for all the keys cached, none while nothing is cached. A lookup that was
    already under way when the key was revoked may cache it once more, until the next recheck:
    so a revoked key is refused by every process within two recheck periods at worst.

    One lookup per key at a time: the requests that miss together wait for the same one, and a
    key in use is looked up again in the background once half its TTL has passed, so under steady
    traffic no request waits for a lookup at all. Before (issue 9), every expiry under 50
    concurrent clients sent 50 lookups, each with its `last_used_at` write, at SQLite's single
    writer (a 2.6 s p99), and then still stalled the requests that arrived during the one lookup."""

    TTL_SECONDS = 10.0

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lookups: dict[str, asyncio.Task[Principal | None]] = {}
        # Bumped by clear(): a lookup that began before a revocation must not cache what it read.
        self._generation = 0

    async def principal(
        self, key_hash: str, find: Callable[[], Awaitable[Principal | None]]
    ) -> Principal | None:
        entry = self._entries.get(key_hash)
        if entry is not None:
            age = time.monotonic() - entry[0]
            if age < self.TTL_SECONDS:
                if age >= self.TTL_SECONDS / 2:
                    self._lookup(key_hash, find)  # refreshed ahead, nobody waits for it
                return entry[1]
        return await asyncio.shield(self._lookup(key_hash, find))

    def _lookup(
        self, key_hash: str, find: Callable[[], Awaitable[Principal | None]]
    ) -> asyncio.Task[Principal | None]:
        task = self._lookups.get(key_hash)
        if task is None:
            # A task of its own, so a waiter that goes away (its client hung up) cancels only its
            # own wait, never the lookup the others wait for.
            task = asyncio.create_task(find())
            self._lookups[key_hash] = task
            task.add_done_callback(partial(self._found, key_hash, self._generation))
        return task

    def _found(self, key_hash: str, generation: int, task: asyncio.Task) -> None:
        if self._lookups.get(key_hash) is task:
            del self._lookups[key_hash]
        if task.cancelled() or task.exception() is not None:
            return  # an entry still fresh stays; the next request past it looks up again
        principal = task.result()
        if principal is None:
            self._entries.pop(key_hash, None)  # revoked (by another process) since it was cached
        elif generation == self._generation:
            self._entries[key_hash] = (time.monotonic(), principal)

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()
        self._lookups.clear()

    async def recheck(self, db: Database) -> int:
        """Drops the cached keys that are no longer active and refreshes the others' name and
        scopes, in one query; returns how many were dropped."""
        now = time.monotonic()
        for key_hash in [h for h, (at, _) in self._entries.items() if now - at >= self.TTL_SECONDS]:
            del self._entries[key_hash]  # expired: the next request looks it up anyway
        hashes = list(self._entries)
        if not hashes:
            return 0
        generation = self._generation
        async with db.transaction() as session:
            rows = await api_keys.active_by_hash(session, hashes)
        dropped = 0
        for key_hash in hashes:
            entry = self._entries.get(key_hash)
            if entry is None:
                continue
            row = rows.get(key_hash)
            if row is None:
                del self._entries[key_hash]
                dropped += 1
            elif generation == self._generation:
                principal = Principal(key_id=row.id, name=row.name, scopes=frozenset(row.scopes))
                if principal != entry[1]:
                    self._entries[key_hash] = (entry[0], principal)
        if dropped:
            # A lookup under way read the key before it was revoked: it must not cache it.
            self._generation += 1
        return dropped

    async def recheck_forever(self, db: Database, seconds: float) -> None:
        """The API's background task (api/app.py) behind the bound on a revocation elsewhere."""
        while True:
            await asyncio.sleep(seconds)
            try:
                dropped = await self.recheck(db)
            except Exception as error:  # the database away: the entries still expire by TTL
                log.warning("api key cache not rechecked", error_type=type(error).__name__)
                continue
            if dropped:
                log.info("revoked api keys dropped from the cache", count=dropped)


_caches: weakref.WeakKeyDictionary[Database, _PrincipalCache] = weakref.WeakKeyDictionary()


def key_cache(db: Database) -> _PrincipalCache:
    """The key cache of this database (made on first use, gone with the Database object)."""
    cache = _caches.get(db)
    if cache is None:
        cache = _caches[db] = _PrincipalCache()
    return cache


async def current_principal(request: Request) -> Principal:
    key = presented_key(request.headers)
    if not key:
        raise ApiError(401, "missing API key: send X-API-Key or Authorization: Bearer")
    principal = await principal_for_key(request.app.state.platform.db, key)
    if principal is None:
        raise ApiError(401, "unknown or revoked API key")
    # The audit trail (api/audit_trail.py) reads who made the call from here.
    request.state.principal = principal
    # The key's `last_used_at`, written in batches (api/key_usage.py).
    usage = getattr(request.app.state.platform, "key_usage", None)
    if usage is not None:
        usage.used(principal.key_id)
    return principal


async def principal_for_key(db: Database, key: str) -> Principal | None:
    """The active key's principal, through the cache; None for an unknown or revoked key."""

    async def find() -> Principal | None:
        async with db.transaction() as session:
            row = await api_keys.find_active(session, key)
        if row is None:
            return None
        return Principal(key_id=row.id, name=row.name, scopes=frozenset(row.scopes))

    return await key_cache(db).principal(api_keys.hash_key(key), find)


def presented_key(headers: Headers) -> str | None:
    """The key a request carries: `X-API-Key`, else an `Authorization: Bearer` token."""
    if key := headers.get("x-api-key"):
        return key
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    return credentials.strip() or None if scheme.lower() == "bearer" else None


def require(scope: str):
    # One dependency, not one on top of current_principal: each costs the request its solving.
    async def _check(request: Request) -> Principal:
        principal = await current_principal(request)
        if not principal.has(scope):
            raise ApiError(403, f"this API key lacks the '{scope}' scope", details={"scope": scope})
        return principal

    _check.needs_api_key = True  # type: ignore[attr-defined]
    return _check


current_principal.needs_api_key = True  # type: ignore[attr-defined]


def needs_api_key(call: Callable[..., object] | None) -> bool:
    """Whether a dependency authenticates the caller by key (its route declares the schemes)."""
    return getattr(call, "needs_api_key", False)


Reader = Annotated[Principal, Depends(require("read"))]
Writer = Annotated[Principal, Depends(require("write"))]
Admin = Annotated[Principal, Depends(require("admin"))]
RunnersScope = Annotated[Principal, Depends(require("runners"))]
HostingScope = Annotated[Principal, Depends(require("hosting"))]
