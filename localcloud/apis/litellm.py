"""The LiteLLM proxy's admin API (WIRE_APIS §2) under `/litellm` (the platform's `litellm_base_url`):
users new/info/delete, keys generate/info/list/delete, prompts list, and the health probes.

Auth is the proxy's: `Authorization: Bearer <key>` or `x-litellm-api-key`. The master key
(`MASTER_KEY`, the platform's dev default) may do everything; a virtual key this emulator generated
may read its own `/key/info` and the prompts its `metadata.prompts` allows. Errors come in the two
shapes the proxy answers: ProxyException `{"error": {message, type, param, code}}` and a bare
FastAPI `{"detail": {"error": ...}}`; validation errors are 422 `{"detail": [...]}`.

Raw keys are never stored: a key is kept under its sha256 `token`, as the proxy keeps it.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from localcloud.state import LocalCloudState, state_of

API = "litellm"
# What `make run` and the platform's settings use by default; production sets the real one.
MASTER_KEY = "sk-localcloud-litellm-master-key"
VERSION = "1.110.2"
USER_ROLES = ("proxy_admin", "proxy_admin_viewer", "internal_user", "internal_user_viewer")
KEY_TYPES = ("llm_api", "management", "read_only", "default")
# Example prompts a fresh proxy serves (its config's `prompts:`), so agents can be deployed at once.
SEEDED_PROMPTS = {
    "researcher-system": "You are a meticulous researcher. Cite your sources.",
    "assistant-system": "You are a helpful assistant for the customer's team.",
    "support-triage": "You triage support requests and route them to the right queue.",
}

router = APIRouter(prefix="/litellm", tags=["litellm"])


class ProxyError(Exception):
    """An error the proxy answers; `bare` uses FastAPI's `{"detail": {"error": ...}}` shape."""

    def __init__(
        self, status: int, message: str, *, kind: str = "", param: str = "None", bare: bool = False
    ) -> None:
        super().__init__(message)
        if bare:
            body: Any = {"detail": {"error": message}}
        else:
            kind = kind or {401: "auth_error", 404: "not_found_error"}.get(
                status, "bad_request_error"
            )
            body = {
                "error": {"message": message, "type": kind, "param": param, "code": str(status)}
            }
        self.response = JSONResponse(body, status_code=status)


def _invalid(loc: str, message: str, kind: str = "value_error") -> ProxyError:
    error = ProxyError(422, message)
    error.response = JSONResponse(
        {"detail": [{"type": kind, "loc": ["body", loc], "msg": message, "input": None}]},
        status_code=422,
    )
    return error


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _key_name(key: str) -> str:
    return f"sk-...{key[-4:]}"


def _doc(state: LocalCloudState) -> dict[str, Any]:
    doc = state.document(API)
    if "keys" not in doc:
        created = _now()
        doc.update(
            users={},
            keys={},
            prompts={
                name: {"template": text, "created_at": created}
                for name, text in SEEDED_PROMPTS.items()
            },
        )
    return doc


def _caller(request: Request, doc: dict[str, Any]) -> dict[str, Any] | None:
    """None for the master key, the key's record for a virtual key; 401 for anything else."""
    header = request.headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    key = token.strip() if scheme.lower() == "bearer" else header.strip()
    key = key or (request.headers.get("x-litellm-api-key") or "").strip()
    if not key:
        raise ProxyError(401, "Authentication Error, No api key passed in.")
    if secrets.compare_digest(key, MASTER_KEY):
        return None
    record = doc["keys"].get(_hash(key))
    if record is None or record.get("blocked"):
        raise ProxyError(
            401,
            "Authentication Error, Invalid proxy server token passed. Received API Key = "
            f"{_key_name(key)}, Key Hash (Token) ={_hash(key)}. Unable to find token in cache "
            "or `LiteLLM_VerificationTokenTable`",
        )
    return record


def _admin_only(caller: dict[str, Any] | None, route: str) -> None:
    if caller is not None:
        raise ProxyError(
            401,
            f"Authentication Error, Only proxy admin can be used to generate, delete, update "
            f"info for new keys/users/teams. Route={route}. Your role=internal_user",
        )


async def _serve(request: Request, handler, *, admin: bool = True) -> Response:
    state = state_of(request)
    try:
        body = await _body(request)
        with state.lock:
            doc = _doc(state)
            caller = _caller(request, doc)
            if admin:
                _admin_only(caller, request.url.path.removeprefix("/litellm"))
            status, answer = handler(doc, request, body, caller)
            if request.method == "POST":
                state.save(API)
    except ProxyError as error:
        return error.response
    return JSONResponse(answer, status_code=status)


async def _body(request: Request) -> dict[str, Any]:
    if request.method != "POST":
        return {}
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        raise _invalid("body", "JSON decode error", "json_invalid") from None
    if not isinstance(body, dict):
        raise _invalid("body", "Input should be a valid dictionary", "dict_type")
    return body


def _optional(body: dict[str, Any], field: str, kind: type | tuple[type, ...]) -> Any:
    value = body.get(field)
    if value is not None and (not isinstance(value, kind) or isinstance(value, bool)):
        raise _invalid(field, f"Input should be a valid {getattr(kind, '__name__', 'value')}")
    return value


def _string_list(body: dict[str, Any], field: str) -> list[str] | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _invalid(field, "Input should be a valid list of strings", "list_type")
    return value


# -- users ------------------------------------------------------------------------------------


def _new_user(doc, _request, body, _caller):
    if "password" in body:
        raise _invalid("password", "Extra inputs are not permitted", "extra_forbidden")
    user_id = _optional(body, "user_id", str) or str(uuid.uuid4())
    email = _optional(body, "user_email", str)
    role = _optional(body, "user_role", str) or "internal_user"
    if role not in USER_ROLES:
        raise _invalid("user_role", f"Input should be {', '.join(map(repr, USER_ROLES))}", "enum")
    metadata = _optional(body, "metadata", dict) or {}
    if user_id in doc["users"]:
        raise ProxyError(400, f"User with id {user_id} already exists", bare=True)
    if email and any(u.get("user_email") == email for u in doc["users"].values()):
        raise ProxyError(400, f"User with email {email} already exists", bare=True)
    user = {
        "user_id": user_id,
        "user_email": email,
        "user_alias": _optional(body, "user_alias", str),
        "user_role": role,
        "teams": _string_list(body, "teams") or [],
        "models": _string_list(body, "models") or [],
        "max_budget": _optional(body, "max_budget", (int, float)),
        "metadata": metadata,
        "spend": 0.0,
        "created_at": _now(),
    }
    doc["users"][user_id] = user
    answer = {**user, "key": "", "key_name": None, "token_id": None, "expires": None}
    if body.get("auto_create_key", True) is not False:
        alias = _optional(body, "key_alias", str)
        key, record = _make_key(doc, {"user_id": user_id, "key_alias": alias})
        answer.update(key=key, key_name=record["key_name"], token_id=record["token"])
    return 200, answer


def _user_info(doc, request, _body, _caller):
    user_id = request.query_params.get("user_id")
    user = doc["users"].get(user_id or "")
    if user is None:
        raise ProxyError(404, f"User={user_id} not found", bare=True)
    keys = [_public(k) for k in doc["keys"].values() if k.get("user_id") == user_id]
    return 200, {"user_id": user_id, "user_info": user, "keys": keys, "teams": []}


def _delete_users(doc, _request, body, _caller):
    user_ids = _string_list(body, "user_ids")
    if user_ids is None:
        raise _invalid("user_ids", "Field required", "missing")
    unknown = [u for u in user_ids if u not in doc["users"]]
    if unknown:
        raise ProxyError(404, f"User not found, passed user_id={unknown[0]}", bare=True)
    for user_id in user_ids:
        del doc["users"][user_id]
        for token in [t for t, k in doc["keys"].items() if k.get("user_id") == user_id]:
            del doc["keys"][token]
    return 200, len(user_ids)


# -- keys -------------------------------------------------------------------------------------


def _make_key(doc: dict[str, Any], body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    alias = body.get("key_alias")
    if alias and any(k.get("key_alias") == alias for k in doc["keys"].values()):
        raise ProxyError(
            400,
            f"Key with alias '{alias}' already exists. Unique key aliases across all keys are "
            "required.",
            param="key_alias",
        )
    key = body.get("key") or f"sk-{secrets.token_urlsafe(16)}"
    if _hash(key) in doc["keys"]:
        raise ProxyError(400, "Unique key constraint failed: the key already exists", param="key")
    record = {
        "token": _hash(key),
        "key_name": _key_name(key),
        "key_alias": alias,
        "user_id": body.get("user_id"),
        "team_id": body.get("team_id"),
        "models": body.get("models") or [],
        "max_budget": body.get("max_budget"),
        "metadata": body.get("metadata") or {},
        "tags": body.get("tags") or [],
        "key_type": body.get("key_type") or "default",
        "duration": body.get("duration"),
        "expires": None,
        "spend": 0.0,
        "blocked": None,
        "tpm_limit": body.get("tpm_limit"),
        "rpm_limit": body.get("rpm_limit"),
        "created_at": _now(),
        "updated_at": _now(),
    }
    doc["keys"][record["token"]] = record
    return key, record


def _public(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "duration"}


def _generate_key(doc, _request, body, _caller):
    for field in ("key_alias", "user_id", "team_id", "duration", "key"):
        _optional(body, field, str)
    _optional(body, "metadata", dict)
    _string_list(body, "models")
    key_type = body.get("key_type")
    if key_type is not None and key_type not in KEY_TYPES:
        raise _invalid("key_type", f"Input should be {', '.join(map(repr, KEY_TYPES))}", "enum")
    custom = body.get("key")
    if custom is not None and not custom.startswith("sk-"):
        raise ProxyError(400, "Invalid key format. LiteLLM Virtual Key must start with 'sk-'.")
    key, record = _make_key(doc, body)
    answer = {**_public(record), "key": key, "token_id": record["token"]}
    return 200, answer


def _find(doc: dict[str, Any], key_or_hash: str) -> dict[str, Any] | None:
    return doc["keys"].get(key_or_hash) or doc["keys"].get(_hash(key_or_hash))


def _key_info(doc, request, _body, caller):
    asked = request.query_params.get("key")
    if asked is None:
        if caller is None:
            raise ProxyError(400, "No key passed in and the master key has no key info")
        return 200, {"key": caller["token"], "info": {**_public(caller), "status": "active"}}
    record = _find(doc, asked)
    if caller is not None and record is not caller:
        raise ProxyError(403, "You are not allowed to access this key's info.", kind="auth_error")
    if record is None:
        raise ProxyError(404, "Key not found in database", param="key")
    info = {k: v for k, v in _public(record).items() if k != "token"}
    return 200, {"key": asked, "info": {**info, "status": "active"}}


def _list_keys(doc, request, _body, _caller):
    query = request.query_params
    try:
        page = int(query.get("page", "1"))
        size = int(query.get("size", "10"))
    except ValueError:
        raise ProxyError(422, "page and size must be integers") from None
    if page < 1 or not 1 <= size <= 100:
        raise ProxyError(400, "page must be >= 1 and size between 1 and 100")
    found = [
        k
        for k in doc["keys"].values()
        if all(
            query.get(field) is None or k.get(field) == query.get(field)
            for field in ("user_id", "team_id", "key_alias")
        )
    ]
    found.sort(key=lambda k: k["created_at"])
    chunk = found[(page - 1) * size : page * size]
    full = query.get("return_full_object", "false").lower() == "true"
    return 200, {
        "keys": [_public(k) for k in chunk] if full else [k["token"] for k in chunk],
        "total_count": len(found),
        "current_page": page,
        "total_pages": math.ceil(len(found) / size),
    }


def _delete_keys(doc, _request, body, _caller):
    keys, aliases = _string_list(body, "keys"), _string_list(body, "key_aliases")
    if not keys and not aliases:
        raise ProxyError(400, "Either keys or key_aliases must be provided")
    records = [r for r in (_find(doc, k) for k in keys or []) if r is not None]
    records += [r for r in doc["keys"].values() if aliases and r.get("key_alias") in aliases]
    tokens = {r["token"] for r in records}
    wanted = len(keys or []) + len(aliases or [])
    for token in tokens:
        del doc["keys"][token]
    if len(tokens) < wanted:
        raise ProxyError(
            400,
            f"Failed to delete all keys. Tried to delete {wanted} keys, deleted {len(tokens)} "
            "keys.",
        )
    return 200, {"deleted_keys": keys if keys else aliases}


# -- prompts ----------------------------------------------------------------------------------


def _prompt(name: str, prompt: dict[str, Any]) -> dict[str, Any]:
    return {
        "prompt_id": name,
        "litellm_params": {"prompt_id": name, "prompt_integration": "dotprompt"},
        "prompt_info": {"prompt_type": "config", "environment": "production"},
        "created_at": prompt["created_at"],
        "updated_at": prompt["created_at"],
        "version": 1,
        "environment": "production",
        "created_by": None,
    }


def _list_prompts(doc, request, _body, caller):
    allowed = None if caller is None else (caller.get("metadata") or {}).get("prompts") or []
    environment = request.query_params.get("environment")
    prompts = [
        _prompt(name, prompt)
        for name, prompt in sorted(doc["prompts"].items())
        if (allowed is None or name in allowed) and environment in (None, "production")
    ]
    return 200, {"prompts": prompts}


# -- routes -----------------------------------------------------------------------------------


@router.post("/user/new")
async def user_new(request: Request) -> Response:
    return await _serve(request, _new_user)


@router.get("/user/info")
async def user_info(request: Request) -> Response:
    return await _serve(request, _user_info)


@router.post("/user/delete")
async def user_delete(request: Request) -> Response:
    return await _serve(request, _delete_users)


@router.post("/key/generate")
async def key_generate(request: Request) -> Response:
    return await _serve(request, _generate_key)


@router.get("/key/info")
async def key_info(request: Request) -> Response:
    return await _serve(request, _key_info, admin=False)


@router.get("/key/list")
async def key_list(request: Request) -> Response:
    return await _serve(request, _list_keys)


@router.post("/key/delete")
async def key_delete(request: Request) -> Response:
    return await _serve(request, _delete_keys)


@router.get("/prompts/list")
async def prompts_list(request: Request) -> Response:
    return await _serve(request, _list_prompts, admin=False)


@router.get("/health/readiness")
async def readiness() -> Response:
    return JSONResponse(
        {
            "status": "healthy",
            "db": "connected",
            "cache": None,
            "litellm_version": VERSION,
            "success_callbacks": [],
        }
    )


@router.get("/health/liveliness")
@router.get("/health/liveness")
async def liveliness() -> Response:
    return JSONResponse("I'm alive!")
