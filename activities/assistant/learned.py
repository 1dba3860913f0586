"""Learned APIs: the LearnApi job's activity (fetch the document through the outbound guard, parse
it, store each operation as a tool), and a learned operation called as a tool (through the same
guard). Credentials are read from Secret Manager by name at the moment of the call: their value is
never stored, logged, or returned by an activity."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import quote, urlsplit

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from contracts.assistant.learned import Credentials, LearnedApiSummary, LearnRequest
from contracts.assistant.names import LearnSteps
from contracts.assistant.turn import ToolCall
from core.settings import Settings
from providers import openapi_spec as openapi
from providers import outbound_http
from providers.google.secret_manager import SecretStore
from store.assistant import learned
from store.db import Database

log = structlog.get_logger(__name__)


class LearnActivities:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db

    def all(self) -> list:
        return [self.learn, self.forget]

    @activity.defn(name=LearnSteps.LEARN)
    async def learn(self, request: LearnRequest) -> LearnedApiSummary:
        """Idempotent: the rows are keyed by the API's id, and a retry replaces what an earlier
        attempt wrote."""
        inp = request.learn
        headers = {"Accept": "application/json, application/yaml;q=0.9, */*;q=0.1"}
        if inp.credentials is not None:
            headers.update(await credential_headers(self.settings, inp.credentials))
        answer = await guarded(self.settings, "GET", inp.source, headers=headers)
        if answer.status >= 400:
            raise ApplicationError(
                f"the document's URL answered {answer.status}",
                type="SourceRefused" if answer.status < 500 else "Unavailable",
                non_retryable=answer.status < 500 and answer.status != 429,
            )
        host = urlsplit(inp.source).hostname or "api"
        try:
            document = openapi.load(answer.body)
            title = inp.name or str((document.get("info") or {}).get("title") or "") or host
            async with self.db.transaction() as session:
                slug = await _free_slug(session, _slug(title), inp.api_id)
            spec = openapi.learn(document, inp.source, slug)
        except openapi.NotADocument as error:
            raise ApplicationError(
                f"not an OpenAPI document: {error}", type="NotADocument", non_retryable=True
            ) from None
        try:
            await outbound_http.check(self.settings, spec.base_url)
        except outbound_http.Refused as error:
            raise ApplicationError(
                f"the API's server URL {spec.base_url!r}: {error}",
                type="Refused",
                non_retryable=True,
            ) from None
        async with self.db.transaction() as session:
            await learned.save(
                session,
                {
                    "id": inp.api_id,
                    "owner": inp.owner,
                    "name": title[:100],
                    "slug": slug,
                    "type": inp.type,
                    "source": inp.source,
                    "base_url": spec.base_url,
                    "credentials": inp.credentials.model_dump() if inp.credentials else None,
                    "job_id": request.job_id,
                },
                [
                    {
                        "tool_name": op.tool_name,
                        "method": op.method,
                        "path": op.path,
                        "description": op.description,
                        "parameters": op.parameters,
                        "locations": op.locations,
                    }
                    for op in spec.operations
                ],
            )
        log.info("api learned", api_id=inp.api_id, endpoints=len(spec.operations))
        return LearnedApiSummary(
            api_id=inp.api_id,
            name=title[:100],
            endpoints=len(spec.operations),
            base_url=spec.base_url,
        )

    @activity.defn(name=LearnSteps.FORGET)
    async def forget(self, request: LearnRequest) -> bool:
        """The undo of `learn`: removes what this job's learning wrote (keyed by the API's id and
        the job's), so a failed or cancelled job leaves no learned API; idempotent."""
        async with self.db.transaction() as session:
            removed = await learned.forget(session, request.learn.api_id, request.job_id)
        if removed:
            log.info("learned api forgotten", api_id=request.learn.api_id)
        return removed


async def guarded(settings: Settings, method: str, url: str, **kwargs: Any) -> outbound_http.Answer:
    """An outbound call as activities make it: a refusal fails for good, a failed call retries."""
    try:
        return await outbound_http.call(settings, method, url, **kwargs)
    except outbound_http.Refused as error:
        raise ApplicationError(f"refused: {error}", type="Refused", non_retryable=True) from None
    except outbound_http.CallFailed as error:
        raise ApplicationError(f"the call failed: {error}", type="Unavailable") from None


async def credential_headers(settings: Settings, credentials: Credentials) -> dict[str, str]:
    try:
        value = await asyncio.to_thread(SecretStore(settings).access, credentials.secret)
    except Exception as error:  # the provider's errors never carry the value
        raise ApplicationError(
            f"the credentials' secret {credentials.secret} cannot be read: {type(error).__name__}",
            type="SecretUnreadable",
        ) from None
    header = f"{credentials.scheme} {value}" if credentials.scheme else value
    return {credentials.header: header}


def _slug(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")
    return (slug or "api")[:16].strip("_") or "api"


async def _free_slug(session: Any, slug: str, api_id: str) -> str:
    if not await learned.slug_taken(session, slug, api_id):
        return slug
    return f"{slug[:10]}_{api_id.removeprefix('api_')[:5]}"


# --- a learned operation called as a tool -----------------------------------------------------


async def call_operation(
    settings: Settings, db: Database, call: ToolCall, arguments: dict[str, Any]
) -> tuple[bool, str] | None:
    """(ok, answer for the LLM) of a learned operation's call, None when no operation has the
    tool's name. A refusal (bad arguments, the guard, a 4xx/5xx) is an answer, not a failure;
    a call that could not be made (no answer) is retried by the activity."""
    async with db.transaction() as session:
        found = await learned.operation(session, call.name)
    if found is None:
        return None
    op, api = found
    problem = _check(op.parameters, arguments)
    if problem:
        return False, f"invalid arguments: {problem}"
    path = op.path
    query: dict[str, Any] = {}
    headers: dict[str, str] = {"Accept": "application/json"}
    body: bytes | None = None
    for name, value in arguments.items():
        where = op.locations.get(name)
        if where == "path":
            path = path.replace("{" + name + "}", quote(str(value), safe=""))
        elif where == "query":
            query[name] = value if not isinstance(value, bool) else str(value).lower()
        elif where == "header":
            headers[name] = str(value)
        elif where == "body":
            body = json.dumps(value).encode()
            headers["Content-Type"] = "application/json"
    if api.credentials:
        headers.update(await credential_headers(settings, Credentials(**api.credentials)))
    try:
        answer = await outbound_http.call(
            settings, op.method, api.base_url + path, headers=headers, content=body, params=query
        )
    except outbound_http.Refused as error:
        return False, f"refused: {error}"
    except outbound_http.CallFailed as error:
        raise ApplicationError(f"{call.name}: {error}", type="Unavailable") from None
    text = answer.body.decode("utf-8", errors="replace")
    log.info("learned operation called", tool=call.name, status=answer.status)
    if answer.status >= 400:
        return False, f"the API answered {answer.status}: {text[:2000]}"
    return True, text


def _check(schema: dict[str, Any], arguments: dict[str, Any]) -> str | None:
    properties = schema.get("properties") or {}
    unknown = sorted(set(arguments) - set(properties))
    if unknown:
        return f"unknown parameter(s) {', '.join(unknown)}; parameters: {', '.join(properties)}"
    missing = [name for name in schema.get("required") or [] if name not in arguments]
    if missing:
        return f"missing required parameter(s) {', '.join(missing)}"
    for name, value in arguments.items():
        kind = (properties.get(name) or {}).get("type")
        expected = {
            "string": str,
            "integer": int,
            "number": (int, float),
            "boolean": bool,
            "array": list,
            "object": dict,
        }.get(kind)
        if expected is not None and not isinstance(value, expected):
            return f"{name} must be a {kind}"
    return None
