"""The audit trail's one mechanism: an ASGI middleware that records every mutating call (POST, PUT,
PATCH, DELETE) made with a platform API key, whatever its outcome, as a row of `audit_events`.

What a row holds: the actor (API key id and name), the request id (the caller's `X-Request-ID`,
else a fresh one, echoed in the answer), method, path, resource, comment, status code, the job the
call started or acted on, and the time. Never a body or a query string: they may carry secrets.

- resource: what a route set in `request.state.audit_resource`; else the subject of the job the
  call started (`service:hello`, noted by JobEngine through `note`); else the path's first two
  segments after `/api/v1` (`jobs/deploy-1a2b`, `api-keys/<id>`, `services/deploy`).
- comment: `request.state.audit_comment` when the route set one, else the `X-Audit-Reason` header.
- job: the job the call started (noted by JobEngine) or acted on (`note(job_id=…)` or
  `request.state.audit_job_id`); else the job id in a `/jobs/<id>` path.
- actor: the principal the route authenticated; a call refused before authentication (413, 415,
  malformed JSON) is attributed by looking its key up after the answer was sent. A call without a
  valid key (401) is not recorded: it has no actor, and anyone could fill the table with them.

Not recorded: `/api/v1/ingest/…` (the CRM webhook: authenticated by a CRM account key, high volume,
and it keeps its own deliveries) and `/codec/…` (decodes payloads the caller holds; changes
nothing)."""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from typing import Any

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import Principal, presented_key, principal_for_key
from store.models import utcnow

log = structlog.get_logger(__name__)

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NOT_AUDITED = ("/api/v1/ingest/", "/codec/")
REASON_HEADER = "x-audit-reason"
REQUEST_ID_HEADER = "x-request-id"
_API_PREFIX = "/api/v1/"

# The current call's notes, one dict per audited request: a mutable holder, so code that runs in a
# copied context (a task) still writes into the request's own dict.
_notes: ContextVar[dict[str, Any] | None] = ContextVar("audit_notes", default=None)


def note(**fields: Any) -> None:
    """Adds facts about the current call to its audit row (no effect outside an audited call)."""
    notes = _notes.get()
    if notes is not None:
        notes.update({key: value for key, value in fields.items() if value is not None})


class AuditTrail:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in MUTATING
            or (scope["path"] + "/").startswith(NOT_AUDITED)
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = _request_id(headers.get(REQUEST_ID_HEADER))
        outcome = {"status": 500}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                outcome["status"] = message["status"]
                answer = MutableHeaders(scope=message)
                if REQUEST_ID_HEADER not in answer:
                    answer[REQUEST_ID_HEADER] = request_id
            await send(message)

        notes: dict[str, Any] = {}
        token = _notes.set(notes)
        try:
            await self.app(scope, receive, sending)
        finally:
            _notes.reset(token)
            try:
                await self._record(scope, headers, request_id, outcome["status"], notes)
            except Exception as error:  # the answer has gone out; the loss is at least told
                log.error(
                    "audit row not recorded",
                    request_id=request_id,
                    method=scope["method"],
                    path=scope["path"],
                    error_type=type(error).__name__,
                )

    async def _record(
        self,
        scope: Scope,
        headers: Headers,
        request_id: str,
        status: int,
        notes: dict[str, Any],
    ) -> None:
        platform = getattr(scope["app"].state, "platform", None)
        if platform is None or platform.audit is None:
            return
        state = scope.get("state") or {}
        principal: Principal | None = state.get("principal")
        if principal is None:
            key = presented_key(headers)
            principal = await principal_for_key(platform.db, key) if key else None
            if principal is None:
                return
        path = scope["path"]
        comment = state.get("audit_comment") or headers.get(REASON_HEADER)
        await platform.audit.record(
            {
                "id": uuid.uuid4(),
                "occurred_at": utcnow(),
                "actor_key_id": principal.key_id,
                "actor_name": principal.name,
                "request_id": request_id,
                "method": scope["method"],
                "path": path[:500],
                "resource": str(
                    state.get("audit_resource") or notes.get("resource") or _resource(path)
                )[:300],
                "comment": str(comment)[:1000] if comment else None,
                "status_code": status,
                "job_id": notes.get("job_id") or state.get("audit_job_id") or _job_in(path),
            }
        )


def _request_id(given: str | None) -> str:
    if given and len(given) <= 128 and given.isprintable():
        return given
    return uuid.uuid4().hex


def _resource(path: str) -> str:
    trimmed = path.removeprefix(_API_PREFIX) if path.startswith(_API_PREFIX) else path
    return "/".join([part for part in trimmed.split("/") if part][:2]) or "/"


def _job_in(path: str) -> str | None:
    parts = path.removeprefix(_API_PREFIX).split("/")
    return parts[1][:200] if len(parts) > 1 and parts[0] == "jobs" and parts[1] else None
