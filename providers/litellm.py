"""The LiteLLM proxy's admin API over httpx (WIRE_APIS §2): users, virtual keys and prompts.

Built from settings (the local cloud's `/litellm` and its dev master key by default; the real
proxy's URL and master key in production). One AsyncClient per event loop is shared by every caller
in it. Failures become Temporal failures the way providers/google maps Google's: a request the
proxy refuses (4xx) is final, an outage (5xx, 429, no answer) is retried by Temporal. Messages
never carry the endpoint nor any key: the proxy's 401 text echoes a masked key and its hash.
"""

from __future__ import annotations

import asyncio
import hashlib
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from temporalio.exceptions import ApplicationError

from contracts.jobs import without_endpoints
from core.settings import Settings
from providers.tls import client_context

_FINAL = {
    400: "InvalidArgument",
    401: "Unauthenticated",
    403: "PermissionDenied",
    404: "NotFound",
    409: "AlreadyExists",
    422: "InvalidArgument",
}
_PAGE_SIZE = 100


@dataclass(frozen=True)
class GeneratedKey:
    """A new virtual key. `key` is the secret itself: write it to Secret Manager, nowhere else."""

    key: str = field(repr=False)
    token: str
    key_alias: str | None


@dataclass(frozen=True)
class KeyInfo:
    """A key as listed: its hash (`token`), never the key itself."""

    token: str
    key_alias: str | None
    user_id: str | None
    metadata: dict[str, Any]
    created_at: str | None


@dataclass(frozen=True)
class Prompt:
    prompt_id: str
    version: int | None
    environment: str | None
    prompt_type: str | None
    created_at: str | None
    updated_at: str | None


class LiteLLMAdmin:
    def __init__(self, settings: Settings) -> None:
        self.http = httpx.AsyncClient(
            base_url=settings.resolved_litellm_base_url,
            headers={"Authorization": f"Bearer {settings.litellm_master_key.get_secret_value()}"},
            timeout=settings.litellm_timeout_seconds,
            verify=client_context(),
        )

    async def ready(self) -> bool:
        """The proxy's cheap readiness probe (`/health` makes real LLM calls)."""
        try:
            answer = await self.http.get("/health/readiness")
        except httpx.TransportError:
            return False
        return answer.status_code == 200

    async def create_user(
        self,
        user_id: str,
        user_email: str | None = None,
        user_alias: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The user, created without a key (keys are generated apart); an existing one is returned."""
        existing = await self.user(user_id)
        if existing is not None:
            return existing
        body = {
            "user_id": user_id,
            "user_email": user_email,
            "user_alias": user_alias,
            "user_role": "internal_user",
            "metadata": metadata or {},
            "auto_create_key": False,
        }
        with as_temporal_failures(f"creating LiteLLM user {user_id}"):
            answer = await self.http.post("/user/new", json=body)
            if answer.status_code == 400 and "already exists" in _message(answer):
                # Created meanwhile (a retried attempt): the same user, so the same outcome.
                found = await self.user(user_id)
                if found is not None:
                    return found
            _check(answer)
        created = answer.json()
        created.pop("key", None)
        return created

    async def user(self, user_id: str) -> dict[str, Any] | None:
        with as_temporal_failures(f"reading LiteLLM user {user_id}"):
            answer = await self.http.get("/user/info", params={"user_id": user_id})
            if answer.status_code == 404:
                return None
            _check(answer)
        return answer.json().get("user_info") or {"user_id": user_id}

    async def delete_users(self, user_ids: list[str]) -> list[str]:
        """Deletes the users and their keys; returns those that existed. Unknown = already done."""
        deleted = []
        for user_id in user_ids:
            # One by one: the proxy refuses the whole call (404) if any id is unknown.
            with as_temporal_failures(f"deleting LiteLLM user {user_id}"):
                answer = await self.http.post("/user/delete", json={"user_ids": [user_id]})
                if answer.status_code == 404:
                    continue
                _check(answer)
            deleted.append(user_id)
        return deleted

    async def generate_key(
        self,
        *,
        key_alias: str,
        user_id: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> GeneratedKey:
        body = {"key_alias": key_alias, "user_id": user_id, "metadata": metadata or {}}
        with as_temporal_failures(f"generating LiteLLM key {key_alias}"):
            answer = await self.http.post("/key/generate", json=body)
            _check(answer)
        data = answer.json()
        return GeneratedKey(
            key=data["key"], token=data.get("token") or data.get("token_id"), key_alias=key_alias
        )

    async def find_key_by_alias(self, alias: str) -> KeyInfo | None:
        keys = await self._list_keys({"key_alias": alias}, f"looking up LiteLLM key {alias}")
        return next((k for k in keys if k.key_alias == alias), None)

    async def list_keys(self) -> list[KeyInfo]:
        """Every key of the proxy (admin): for a search by metadata, which it cannot filter on."""
        return await self._list_keys({}, "listing LiteLLM keys")

    async def list_user_keys(self, user_id: str) -> list[KeyInfo]:
        return await self._list_keys({"user_id": user_id}, f"listing keys of {user_id}")

    async def delete_keys(
        self, *, keys: list[str] | None = None, key_aliases: list[str] | None = None
    ) -> int:
        """Deletes keys (raw or hashed) and keys by alias; returns how many existed. Gone = done.
        Raw keys are hashed here first: only hashes go on the wire (and into any request log)."""
        tokens = [t for t in map(key_token, keys or []) if await self._key_exists(t)]
        aliases = [a for a in key_aliases or [] if await self.find_key_by_alias(a) is not None]
        for what, values in (("keys", tokens), ("key_aliases", aliases)):
            if not values:
                continue
            with as_temporal_failures(f"deleting LiteLLM {what}"):
                answer = await self.http.post("/key/delete", json={what: values})
                if answer.status_code == 400 and "Failed to delete all keys" in _message(answer):
                    # Another caller deleted some in between: what is asked is gone all the same.
                    continue
                _check(answer)
        return len(tokens) + len(aliases)

    async def list_prompts(self) -> list[Prompt]:
        with as_temporal_failures("listing LiteLLM prompts"):
            answer = await self.http.get("/prompts/list")
            _check(answer)
        return [_prompt(p) for p in answer.json().get("prompts") or []]

    async def _key_exists(self, token: str) -> bool:
        with as_temporal_failures("looking up a LiteLLM key"):
            answer = await self.http.get("/key/info", params={"key": token})
            if answer.status_code == 404:
                return False
            _check(answer)
        return True

    async def _list_keys(self, filters: dict[str, str], what: str) -> list[KeyInfo]:
        found: list[KeyInfo] = []
        page = 1
        while True:
            params = {**filters, "return_full_object": "true", "page": page, "size": _PAGE_SIZE}
            with as_temporal_failures(what):
                answer = await self.http.get("/key/list", params=params)
                _check(answer)
            data = answer.json()
            found += [_key_info(k) for k in data.get("keys") or [] if isinstance(k, dict)]
            if page >= int(data.get("total_pages") or 1):
                return found
            page += 1


def key_token(key: str) -> str:
    """LiteLLM's `token` for a virtual key (its sha256); a token passes through. The proxy takes
    either wherever it names a key, so the platform sends tokens only."""
    return hashlib.sha256(key.encode()).hexdigest() if key.startswith("sk-") else key


def _key_info(data: dict[str, Any]) -> KeyInfo:
    return KeyInfo(
        token=data.get("token") or "",
        key_alias=data.get("key_alias"),
        user_id=data.get("user_id"),
        metadata=data.get("metadata") or {},
        created_at=data.get("created_at"),
    )


def _prompt(data: dict[str, Any]) -> Prompt:
    info = data.get("prompt_info") or {}
    return Prompt(
        prompt_id=data.get("prompt_id") or "",
        version=data.get("version"),
        environment=data.get("environment") or info.get("environment"),
        prompt_type=info.get("prompt_type"),
        created_at=data.get("created_at"),
        updated_at=data.get("updated_at"),
    )


class LiteLLMRefused(Exception):
    """An answer that is an error; turned into a Temporal failure by `as_temporal_failures`."""

    def __init__(self, answer: httpx.Response) -> None:
        super().__init__(answer.status_code)
        self.status = answer.status_code
        # The 401 text echoes the (masked) key and its hash: never repeated.
        self.message = "the master key was refused" if self.status == 401 else _message(answer)


def _check(answer: httpx.Response) -> None:
    if answer.status_code >= 400:
        raise LiteLLMRefused(answer)


def _message(answer: httpx.Response) -> str:
    """The proxy's two error shapes: ProxyException `error.message`, FastAPI `detail`."""
    try:
        body = answer.json()
    except ValueError:
        return answer.reason_phrase or str(answer.status_code)
    if isinstance(body, dict):
        error, detail = body.get("error"), body.get("detail")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(detail, dict):
            return str(detail.get("error") or detail)
        if detail is not None:
            return str(detail)
    return str(answer.status_code)


@contextmanager
def as_temporal_failures(what: str) -> Iterator[None]:
    try:
        yield
    except LiteLLMRefused as error:
        message = f"{what}: LiteLLM answered {error.status}: {without_endpoints(error.message)}"
        final = _FINAL.get(error.status)
        if final:
            raise ApplicationError(message, type=final, non_retryable=True) from None
        raise ApplicationError(message, type="Unavailable") from None
    except httpx.TransportError as error:
        reason = "timed out" if isinstance(error, httpx.TimeoutException) else "connection failed"
        raise ApplicationError(
            f"{what}: LiteLLM did not answer ({reason})", type="Unavailable"
        ) from None


# One admin (one connection pool) per event loop and endpoint: an AsyncClient's connections
# belong to the loop that opened them, and the API and the worker may run different loops.
_admins: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str], Any]] = (
    weakref.WeakKeyDictionary()
)


def litellm_admin(settings: Settings) -> LiteLLMAdmin:
    """The shared admin client for these settings in the running event loop (outside one, a
    client of its own)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return LiteLLMAdmin(settings)
    key = (settings.resolved_litellm_base_url, settings.litellm_master_key.get_secret_value())
    per_loop = _admins.setdefault(loop, {})
    if key not in per_loop:
        per_loop[key] = LiteLLMAdmin(settings)
    return per_loop[key]
