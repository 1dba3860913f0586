"""What every request body goes through before a handler sees it: a size limit (413), JSON only
(415), and a strict JSON parse (400 saying where the JSON is broken, refusing duplicate keys).

- `BodyLimit` is a pure ASGI middleware: it reads the body whole (never more than the limit, checked
  by Content-Length when declared and by counting a chunked body) before the app runs, so a refused
  request never reaches routing, auth or a handler.
- `JsonRoute` is the route class of every router (`JsonRouter`): a route that takes a JSON body
  parses it here instead of with FastAPI's `json.loads`, which accepts duplicate keys (last wins),
  `NaN`, and reports a broken document as a byte offset posing as a field name. A route that takes
  a form (the hosting system's, seed 001) gets a form only (415), each field once (400).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, FastAPI, params
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import SECURITY_REQUIREMENT, needs_api_key
from api.errors import ApiError, envelope, styled_code

_DRAIN_FACTOR = 8


class BodyLimit:
    """`streamed`: routes (method, path) that take an upload larger than the JSON limit. Their
    body is not read here but streamed to the route, which counts it against its own bound; only
    a declared Content-Length over that bound is refused here."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, streamed: dict[tuple[str, str], int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.streamed = dict(streamed or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        bound = self.streamed.get((scope["method"], scope["path"].rstrip("/") or "/"))
        if bound is not None:
            if declared.isdigit() and int(declared) > bound:
                await self._refuse(scope, receive, send, more_body=True, limit=bound)
                return
            await self.app(scope, receive, send)
            return
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send, more_body=True)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # gone before it finished: nothing to answer
                return
            chunk = message.get("body", b"")
            more_body = message.get("more_body", False)
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send, more_body=more_body)
                return
            chunks.append(chunk)
            if not more_body:
                break
        whole = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([whole], receive), send)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, *, more_body: bool, limit: int = 0
    ) -> None:
        # A client that sends its whole body before reading the answer would see the connection
        # reset instead of the 413, so the rest is read and dropped first, up to a bound (the
        # server stops listening once it has answered).
        limit = limit or self.max_bytes
        drained = 0
        while more_body and drained < _DRAIN_FACTOR * min(limit, self.max_bytes):
            message = await receive()
            drained += len(message.get("body", b""))
            more_body = message["type"] == "http.request" and message.get("more_body", False)
        response = too_large(
            limit, styled_code(scope.get("app"), scope.get("path", ""), "payload_too_large")
        )
        await response(scope, receive, send)


def too_large(limit: int, code: str = "payload_too_large"):
    response = envelope(
        413,
        code,
        f"the request body is larger than {limit} bytes",
        {"limit_bytes": limit},
    )
    response.headers["Connection"] = "close"
    return response


def _replay(messages: list[Message], receive: Receive) -> Receive:
    async def replayed() -> Message:
        return messages.pop(0) if messages else await receive()

    return replayed


def _invalid_body(message: str, **details: Any) -> ApiError:
    return ApiError(
        400,
        f"invalid request body: {message}",
        code="validation_error",
        details={"fields": [{"field": "body", "message": message}], **details},
    )


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise _DuplicateKey(key)
        document[key] = value
    return document


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def parse_json(raw: bytes) -> Any:
    """RFC 8259 JSON: UTF-8, no duplicate keys, no NaN/Infinity; errors say where and why."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _invalid_body(f"not UTF-8 (byte {error.start})") from None
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise _invalid_body(
            f"malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}",
            line=error.lineno,
            column=error.colno,
        ) from None
    except _DuplicateKey as error:
        raise _invalid_body(f"duplicate key {str(error)!r} in a JSON object") from None
    except RecursionError:
        raise _invalid_body("JSON nested too deeply") from None
    except ValueError as error:
        raise _invalid_body(str(error)) from None


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_json(content_type: str | None) -> bool:
    media = _media_type(content_type)
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


class _ParsedJsonRequest(Request):
    """The request handed to FastAPI once its body is parsed: `json()` answers that parse."""

    def __init__(self, request: Request, raw: bytes, document: Any) -> None:
        super().__init__(request.scope, request.receive)
        self._raw_body = raw
        self._document = document

    async def body(self) -> bytes:
        return self._raw_body

    async def json(self) -> Any:
        return self._document


class JsonRoute(APIRoute):
    """Refuses a body that is not strict JSON (415, 400), and declares the API-key schemes in the
    OpenAPI document of a route whose dependencies authenticate the caller."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if _authenticates(self.dependant):
            self.openapi_extra = {**(self.openapi_extra or {}), "security": SECURITY_REQUIREMENT}

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler
        if isinstance(self.body_field.field_info, params.Form):
            return _strict_form(handler)

        async def strict_json(request: Request) -> Response:
            raw = await request.body()
            if raw:
                content_type = request.headers.get("content-type")
                if not is_json(content_type):
                    media = _media_type(content_type) or "no Content-Type"
                    raise ApiError(
                        415,
                        f"the request body must be JSON (Content-Type: application/json), "
                        f"not {media}",
                        details={"content_type": media},
                    )
                request = _ParsedJsonRequest(request, raw, parse_json(raw))
            return await handler(request)

        return strict_json


FORM_MEDIA_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _strict_form(
    handler: Callable[[Request], Coroutine[Any, Any, Response]],
) -> Callable[[Request], Coroutine[Any, Any, Response]]:
    """A form route's body: a form (415 otherwise), each field given once (400 otherwise: which
    of two values FastAPI would take is not the caller's to guess)."""

    async def strict_form(request: Request) -> Response:
        if await request.body():
            media = _media_type(request.headers.get("content-type"))
            if media not in FORM_MEDIA_TYPES:
                raise ApiError(
                    415,
                    f"the request body must be a form (multipart/form-data or "
                    f"application/x-www-form-urlencoded), not {media or 'no Content-Type'}",
                    details={"content_type": media or None},
                )
            names = [name for name, _value in (await request.form()).multi_items()]
            repeated = sorted({name for name in names if names.count(name) > 1})
            if repeated:
                raise _invalid_body(f"form field {repeated[0]!r} is given more than once")
        return await handler(request)

    return strict_form


def _authenticates(dependant: Dependant) -> bool:
    return any(
        needs_api_key(dependency.call) or _authenticates(dependency)
        for dependency in dependant.dependencies
    )


class JsonRouter(APIRouter):
    """The API's router: `JsonRoute` for every route."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("route_class", JsonRoute)
        super().__init__(*args, **kwargs)


def include_routes(app: FastAPI, router: APIRouter) -> None:
    """Serves `router`'s routes from `app` as they are.

    FastAPI's `include_router` wraps a router in an inclusion of each app's own: the first request
    that reaches it builds every one of its routes again for that app (their dependencies and
    response models), and every request walks the wrapper as well as the routes. The platform's
    routers are included with nothing to add (their routes already carry their router's prefix,
    tags and answers), so the route objects their modules built at import serve every app of the
    process: no build on an app's first requests, and a request matched against the routes only
    (`python -m bench.api_routing`)."""
    app.router.routes.extend(router.routes)
