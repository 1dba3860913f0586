"""API-key authentication (`X-API-Key` or `Authorization: Bearer`) and scope checks."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError
from store import api_keys

SCOPES = ("read", "write", "admin", "secrets")
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


async def current_principal(
    request: Request,
    header_key: Annotated[str | None, Security(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Principal:
    key = header_key or (bearer.credentials if bearer else None)
    if not key:
        raise ApiError(401, "missing API key: send X-API-Key or Authorization: Bearer")
    db = request.app.state.platform.db
    async with db.transaction() as session:
        row = await api_keys.find_active(session, key)
    if row is None:
        raise ApiError(401, "unknown or revoked API key")
    return Principal(key_id=row.id, name=row.name, scopes=frozenset(row.scopes))


def require(scope: str):
    async def _check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.has(scope):
            raise ApiError(403, f"this API key lacks the '{scope}' scope", details={"scope": scope})
        return principal

    return _check


Reader = Annotated[Principal, Depends(require("read"))]
Writer = Annotated[Principal, Depends(require("write"))]
Admin = Annotated[Principal, Depends(require("admin"))]
SecretsReader = Annotated[Principal, Depends(require("secrets"))]
