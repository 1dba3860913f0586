"""The assistant console's logins: argon2 password hashes, HS256 tokens (PyJWT, the algorithm
always named), and who a request comes from: a console user by token, or a platform API key with
the `assistant` scope (`X-API-Key`, or a `csk_` key as the bearer)."""

from __future__ import annotations

import asyncio
import functools
import time
import uuid
from dataclasses import dataclass

import jwt
import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.requests import Request

from api.auth import Principal, principal_for_key
from api.errors import ApiError
from core.local_keys import API_KEY_PREFIX
from core.settings import Settings
from store.assistant import users
from store.db import Database

log = structlog.get_logger(__name__)

ALGORITHM = "HS256"
ISSUER = "conneskills-assistant"
_hasher = PasswordHasher()
# Verified against when the user is unknown, so an unknown name costs what a wrong password does.
# A hash made once (of "not-a-password"), not at every import: hashing costs ~0.12 s of CPU, which
# every process importing the API paid. Made anew should the hasher's parameters ever differ from
# the ones it carries (the cost of a verify is set by them).
_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$XTIGClaSWliqb13PoN5TMQ$PNuaZxaRVzR5EQNV/Wyet5cwrsxz+rgXxHwt5lunlFY"
if _hasher.check_needs_rehash(_DUMMY_HASH):
    _DUMMY_HASH = _hasher.hash("not-a-password")
# Console users' job principals are derived from their name in this namespace (not a key id).
_CONSOLE_NAMESPACE = uuid.UUID("6f1f3d2e-8a4b-4c55-9a1e-2b7c0d5e4f60")


@dataclass(frozen=True)
class Caller:
    """Who calls the assistant: `owner` scopes conversations ("user:<name>" or "key:<key id>");
    `principal` is what starts jobs in its name."""

    owner: str
    principal: Principal


@functools.cache
def _hasher_for(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)


def hash_password(password: str, settings: Settings) -> str:
    """An argon2id hash at the settings' cost (the tests' is the lowest: every platform they start
    creates its first admin)."""
    hasher = _hasher_for(
        settings.assistant_password_time_cost, settings.assistant_password_memory_kib
    )
    return hasher.hash(password)


async def ensure_first_admin(db: Database, settings: Settings) -> None:
    """The first console user, from settings (the password resolved by core.local_keys)."""
    assert settings.assistant_admin_password is not None, "resolved by with_local_keys"
    async with db.transaction() as session:
        if await users.find(session, settings.assistant_admin_username) is not None:
            return  # kept as it is; no hash made for nothing (~0.12 s of CPU at every start)
    password = settings.assistant_admin_password.get_secret_value()
    hashed = await asyncio.to_thread(hash_password, password, settings)
    async with db.transaction() as session:
        added = await users.ensure(session, settings.assistant_admin_username, hashed, admin=True)
    if added:
        log.info("assistant console admin created", username=settings.assistant_admin_username)


def _secret(settings: Settings) -> str:
    assert settings.assistant_jwt_secret is not None, "resolved by with_local_keys"
    return settings.assistant_jwt_secret.get_secret_value()


async def login(db: Database, settings: Settings, username: str, password: str) -> str:
    """A token for the user, or 401 with one message whatever was wrong (name or password)."""
    async with db.transaction() as session:
        user = await users.find(session, username)
    stored = user.password_hash if user is not None and user.active else _DUMMY_HASH
    try:
        ok = await asyncio.to_thread(_hasher.verify, stored, password)
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None or not user.active:
        raise ApiError(401, "wrong username or password")
    now = int(time.time())
    claims = {
        "sub": username,
        "iss": ISSUER,
        "iat": now,
        "exp": now + settings.assistant_token_ttl_seconds,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, _secret(settings), algorithm=ALGORITHM)


def console_principal(username: str) -> Principal:
    return Principal(
        key_id=uuid.uuid5(_CONSOLE_NAMESPACE, username),
        name=f"console:{username}",
        scopes=frozenset({"assistant"}),
    )


async def caller_of(request: Request, db: Database, settings: Settings) -> Caller:
    """The caller of an assistant route, or 401/403."""
    headers = request.headers
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    token = credentials.strip() if scheme.lower() == "bearer" else ""
    caller = await caller_for(db, settings, key=headers.get("x-api-key"), token=token)
    request.state.principal = caller.principal
    return caller


async def caller_for(db: Database, settings: Settings, *, key: str | None, token: str) -> Caller:
    """Who presents this API key or bearer (a console token, or a `csk_…` key), or 401/403; what
    `/ws` checks its `auth` message's token with."""
    if not key and token.startswith(API_KEY_PREFIX):
        key = token
    if key:
        principal = await principal_for_key(db, key)
        if principal is None:
            raise ApiError(401, "unknown or revoked API key")
        if not principal.has("assistant"):
            raise ApiError(
                403, "this API key lacks the 'assistant' scope", details={"scope": "assistant"}
            )
        return Caller(owner=f"key:{principal.key_id}", principal=principal)
    if not token:
        raise ApiError(401, "missing credentials: send Authorization: Bearer <token> or X-API-Key")
    try:
        claims = jwt.decode(
            token,
            _secret(settings),
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise ApiError(401, "the token has expired: log in again") from None
    except jwt.PyJWTError:
        raise ApiError(401, "invalid token") from None
    username = claims["sub"]
    async with db.transaction() as session:
        user = await users.find(session, username) if isinstance(username, str) else None
    if user is None or not user.active:
        raise ApiError(401, "invalid token")
    return Caller(owner=f"user:{username}", principal=console_principal(username))
