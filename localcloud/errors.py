"""Google-shaped API errors: `{"error": {"code", "message", "status"}}` with the matching HTTP status."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

log = logging.getLogger("localcloud")

# google.rpc.Code number -> (name, HTTP status), as in google/rpc/code.proto.
GRPC_CODES: dict[int, tuple[str, int]] = {
    1: ("CANCELLED", 499),
    2: ("UNKNOWN", 500),
    3: ("INVALID_ARGUMENT", 400),
    4: ("DEADLINE_EXCEEDED", 504),
    5: ("NOT_FOUND", 404),
    6: ("ALREADY_EXISTS", 409),
    7: ("PERMISSION_DENIED", 403),
    8: ("RESOURCE_EXHAUSTED", 429),
    9: ("FAILED_PRECONDITION", 400),
    10: ("ABORTED", 409),
    11: ("OUT_OF_RANGE", 400),
    12: ("UNIMPLEMENTED", 501),
    13: ("INTERNAL", 500),
    14: ("UNAVAILABLE", 503),
    15: ("DATA_LOSS", 500),
    16: ("UNAUTHENTICATED", 401),
}
STATUS_BY_NAME: dict[str, tuple[int, int]] = {
    name: (number, http) for number, (name, http) in GRPC_CODES.items()
}
# The status an HTTP code most often carries; 409 and 400 are ambiguous, so faults may name one.
STATUS_BY_HTTP: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class ApiError(Exception):
    """An error answered to the client; `status` is a google.rpc.Code name."""

    def __init__(self, status: str, message: str, details: list[dict] | None = None) -> None:
        super().__init__(message)
        if status not in STATUS_BY_NAME:
            raise ValueError(f"unknown google.rpc status {status!r}")
        self.status = status
        self.message = message
        # google.rpc.Status details (`{"@type": ..., ...}`), e.g. a BadRequest's field violations.
        self.details = details or []

    @property
    def http_status(self) -> int:
        return STATUS_BY_NAME[self.status][1]

    @property
    def grpc_code(self) -> int:
        return STATUS_BY_NAME[self.status][0]

    def body(self) -> dict:
        error = {"code": self.http_status, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.http_status)

    def rpc_status(self) -> dict:
        """The google.rpc.Status form, as carried by a failed long-running operation."""
        return {"code": self.grpc_code, "message": self.message}


def invalid(message: str) -> ApiError:
    return ApiError("INVALID_ARGUMENT", message)


def not_found(message: str) -> ApiError:
    return ApiError("NOT_FOUND", message)


def already_exists(message: str) -> ApiError:
    return ApiError("ALREADY_EXISTS", message)


def status_for_code(code: int | str) -> str:
    """Resolve a fault's code, given as an HTTP status, a google.rpc number, or a status name."""
    if isinstance(code, str):
        name = code.upper()
        if name in STATUS_BY_NAME:
            return name
        raise invalid(f"unknown status name {code!r}")
    if code in STATUS_BY_HTTP:
        return STATUS_BY_HTTP[code]
    if code in GRPC_CODES:
        return GRPC_CODES[code][0]
    raise invalid(f"unsupported error code {code!r}")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Unknown paths and methods: Google answers 404 for a method it does not serve.
        if exc.status_code in (404, 405):
            message = f"Method not found: {request.method} {request.url.path}"
            return ApiError("NOT_FOUND", message).response()
        status = STATUS_BY_HTTP.get(exc.status_code, "UNKNOWN")
        return ApiError(status, str(exc.detail)).response()

    @app.exception_handler(ClientDisconnect)
    async def _client_gone(request: Request, _: ClientDisconnect) -> Response:
        # The client closed its connection before its request body arrived (or while it waited,
        # e.g. on an injected latency): expected, not a server error. Left to the catch-all below,
        # it would be answered 500 and uvicorn would log a traceback per disconnect. Nobody reads
        # this answer; 499 is what Google's front ends record for a cancelled request.
        log.debug("client disconnected: %s %s", request.method, request.url.path)
        return Response(status_code=499)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return invalid(f"Invalid request: {exc.errors()}").response()

    @app.exception_handler(Exception)
    async def _internal(_: Request, exc: Exception) -> JSONResponse:
        return ApiError("INTERNAL", f"Internal error in the local cloud: {exc!r}").response()
