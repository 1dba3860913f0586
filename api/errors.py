"""The API's one error envelope, `{"error": {"code", "message", "details"}}`, for every failure path."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError

from api.schemas.types import as_utc
from temporal.client import unreachable

log = structlog.get_logger(__name__)

_CODES = {
    400: "validation_error",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    502: "upstream_error",
    503: "unavailable",
}


# What each error status means in this API, for the OpenAPI document.
DESCRIPTIONS = {
    400: "Invalid input: `details.fields` names each refused field, parameter or the body.",
    401: "Missing, unknown or revoked API key.",
    403: "The API key lacks the scope this operation needs.",
    404: "The resource named in the path does not exist.",
    409: "Conflicts with the resource's current state (or an Idempotency-Key used for another "
    "request).",
    413: "The request body is over the size limit.",
    415: "The request body is not JSON.",
    429: "Too many requests; retry after the time in `Retry-After`.",
    502: "An outside system answered with an error.",
    503: "A system the operation needs (Temporal, the cloud) is unreachable; retry later.",
}


class ErrorBody(BaseModel):
    code: str = Field(examples=["validation_error"])
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorEnvelope(BaseModel):
    """Every error the API answers."""

    error: ErrorBody


def answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a router or route: the statuses it answers, each with the envelope."""
    return {s: {"model": ErrorEnvelope, "description": DESCRIPTIONS[s]} for s in statuses}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        details: dict | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or _CODES.get(status, "error")
        self.details = details or {}
        self.headers = headers or {}


def not_found(what: str, **details: Any) -> ApiError:
    return ApiError(404, f"{what} not found", details=details)


def _as_json(value: Any) -> Any:
    """Times in details are shown as every response shows them: UTC, ISO 8601 with `Z`."""
    if isinstance(value, datetime):
        return as_utc(value).isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {key: _as_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_as_json(item) for item in value]
    return value


# A system whose documented error format names its codes otherwise (seed 002's upper-case ones)
# keeps the envelope and has its codes translated under its paths: `install_error_handlers(app,
# code_styles={prefixes: translate})`, read back by `styled_code` wherever an error is answered.
CodeStyle = Callable[[str], str]


def styled_code(app: Any, path: str, code: str) -> str:
    styles: dict[tuple[str, ...], CodeStyle] = (
        getattr(getattr(app, "state", None), "error_code_styles", None) or {}
    )
    for prefixes, translate in styles.items():
        if any(path == prefix or path.startswith(prefix + "/") for prefix in prefixes):
            return translate(code)
    return code


def envelope(status: int, code: str, message: str, details: dict | None = None) -> JSONResponse:
    return _envelope(status, code, message, details)


def _envelope(status: int, code: str, message: str, details: dict | None = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": _as_json(details or {})}}
    return JSONResponse(status_code=status, content=body)


def _field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    fields = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ()) if part != "body"]
        # Pydantic puts the rejected input in "input"; it may be a secret, so it is left out.
        fields.append({"field": ".".join(location) or "body", "message": error.get("msg", "")})
    return fields


def install_error_handlers(
    app: FastAPI, code_styles: dict[tuple[str, ...], CodeStyle] | None = None
) -> None:
    app.state.error_code_styles = dict(code_styles or {})

    def envelope(
        status: int, code: str, message: str, details: dict | None = None, *, request: Request
    ) -> JSONResponse:
        return _envelope(status, styled_code(app, request.url.path, code), message, details)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        response = envelope(exc.status, exc.code, exc.message, exc.details, request=request)
        response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = _field_errors(exc)
        names = ", ".join(f["field"] for f in fields)
        return envelope(
            400,
            "validation_error",
            f"invalid request: {names}",
            {"fields": fields},
            request=request,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        code = _CODES.get(exc.status_code, "error")
        response = envelope(exc.status_code, code, message, request=request)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", path=request.url.path, error_type=type(exc).__name__)
        return envelope(500, "internal_error", "internal error; see the API logs", request=request)

    # The platform database down (refused, dropped or locked past the busy timeout): the
    # transaction was rolled back, so the caller may retry; never a 500 for an outage.
    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(OSError)
    async def _database(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, OSError) and not isinstance(exc, ConnectionError | TimeoutError):
            return await _unexpected(request, exc)
        log.warning("database unreachable", path=request.url.path, error_type=type(exc).__name__)
        return envelope(
            503,
            "unavailable",
            "the platform database is unreachable, retry later",
            {"upstream": "database"},
            request=request,
        )

    # The Temporal client raises RPCError when the server stops answering and RuntimeError when it
    # never connected; `unreachable` tells those apart from real failures, which stay 500s.
    @app.exception_handler(RPCError)
    @app.exception_handler(RuntimeError)
    async def _temporal(request: Request, exc: Exception) -> JSONResponse:
        if not unreachable(exc):
            return await _unexpected(request, exc)
        log.warning("temporal unreachable", path=request.url.path, error=str(exc)[:200])
        return envelope(
            503,
            "unavailable",
            "the job service (Temporal) is unreachable, retry later",
            {"upstream": "temporal"},
            request=request,
        )
