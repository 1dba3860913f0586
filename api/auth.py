"""API-key authentication (`X-API-Key` or `Authorization: Bearer`) and scope checks."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError
from store import api_keys

SCOPES = ("read", "write", "admin", "secrets", "crm", "runners")
# A broader scope grants the narrower ones it contains.
_IMPLIES = {"admin": set(SCOPES), "write": {"read"}}

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="ApiKeyHeader")
_bearer = HTTPBearer(auto_error=False, scheme_name="BearerApiKey")


@dataclass(frozen=True)
class Principal:
    key_id: uuid.UUID
    name: str
    scopes: frozenset[str]

    def has(self, scope: str) -> bool:
        return any(scope == s or scope in _IMPLIES.get(s, ()) for s in self.scopes)


class _PrincipalCache:
    """Keys seen in the last few seconds, so a burst of requests costs one lookup (and one
    `last_used_at` write). Revoking through this API clears it at once; another API process sees
    a revocation within TTL_SECONDS."""

    TTL_SECONDS = 10.0

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, key_hash: str) -> Principal | None:
        entry = self._entries.get(key_hash)
        if entry and time.monotonic() - entry[0] < self.TTL_SECONDS:
            return entry[1]
        return None

    def put(self, key_hash: str, principal: Principal) -> None:
        self._entries[key_hash] = (time.monotonic(), principal)

    def clear(self) -> None:
        self._entries.clear()


principal_cache = _PrincipalCache()


async def current_principal(
    request: Request,
    header_key: Annotated[str | None, Security(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Principal:
    key = header_key or (bearer.credentials if bearer else None)
    if not key:
        raise ApiError(401, "missing API key: send X-API-Key or Authorization: Bearer")
    key_hash = api_keys.hash_key(key)
    cached = principal_cache.get(key_hash)
    if cached is not None:
        return cached
    db = request.app.state.platform.db
    async with db.transaction() as session:
        row = await api_keys.find_active(session, key)
    if row is None:
        raise ApiError(401, "unknown or revoked API key")
    principal = Principal(key_id=row.id, name=row.name, scopes=frozenset(row.scopes))
    principal_cache.put(key_hash, principal)
    return principal


def require(scope: str):
    async def _check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.has(scope):
            raise ApiError(403, f"this API key lacks the '{scope}' scope", details={"scope": scope})
        return principal

    return _check


Reader = Annotated[Principal, Depends(require("read"))]
Writer = Annotated[Principal, Depends(require("write"))]
Admin = Annotated[Principal, Depends(require("admin"))]
RunnersScope = Annotated[Principal, Depends(require("runners"))]
