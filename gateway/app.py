"""The seed-004 API gateway (:8080): validates runner requests with the seed's messages, forwards
`/api/v1/runners…` to the platform API (the "orchestrator") with retries, and answers every call in
the seed's envelope. It holds no state; the caller's API key (`X-API-Key` or `Authorization`)
travels through to the platform, which requires the `runners` scope."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import metadata
from typing import TYPE_CHECKING, Any

import httpx
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.docs import install_docs
from api.metrics import install_metrics
from api.tracing import install_tracing
from core import tracing
from core.logging import configure_logging
from core.settings import Settings, get_settings
from gateway import envelope
from gateway.envelope import GatewayError
from gateway.transport import UpstreamTransport
from gateway.upstream import Upstream
from gateway.validation import parse_json, require_json, validate_runner_request

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

log = structlog.get_logger("gateway")
try:
    VERSION = metadata.version("conneskills-platform")
except metadata.PackageNotFoundError:  # run from a checkout without an install
    VERSION = "0.0.0"
USER_AGENT = f"GHA-API-Gateway/{VERSION}"
REQUEST_ID = "X-Request-ID"
HEALTH_PATHS = {"/health", "/healthz", "/api/v1/health"}
# Headers passed on to the platform: the caller's credentials and the request's identity.
_FORWARDED = ("x-api-key", "authorization", "idempotency-key", "content-type")
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def create_app(
    settings: Settings | None = None, *, tracer_provider: TracerProvider | None = None
) -> FastAPI:
    """The gateway. `tracer_provider`: as the API's (api/app.py); with one, each forwarded call
    carries the request's trace to the platform in a `traceparent` header."""
    settings = settings or get_settings()
    # The process's first configuration wins: in `python -m gateway` that is this one.
    configure_logging(logging.getLevelName(settings.gateway_log_level))
    # httpx logs every upstream call at info; the gateway logs each request once itself.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    tracer_provider = tracer_provider or tracing.tracer_provider(settings, tracing.GATEWAY)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        upstream_url = settings.resolved_gateway_upstream_url
        client = httpx.AsyncClient(
            base_url=upstream_url,
            timeout=httpx.Timeout(settings.gateway_upstream_timeout_seconds, connect=5.0),
            headers={"User-Agent": USER_AGENT},
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            # Plain HTTP (the platform next to it): the lean transport; TLS: httpx's own.
            transport=UpstreamTransport(max_idle=50)
            if upstream_url.startswith("http://")
            else None,
        )
        app.state.upstream = Upstream(client, settings.gateway_retry_base_seconds)
        log.info(
            "gateway ready",
            port=settings.gateway_port,
            upstream=settings.resolved_gateway_upstream_url,
        )
        try:
            yield
        finally:
            await client.aclose()
            if tracer_provider is not None:
                await asyncio.to_thread(tracer_provider.force_flush)
            log.info("gateway stopped")

    app = FastAPI(
        title="GHA API Gateway",
        version=VERSION,
        description="Seed-004 gateway in front of the ConneSkills Platform's `/api/v1/runners`.",
        lifespan=lifespan,
        # Served from an installed package, as the API's are: /docs and /redoc work offline.
        docs_url=None,
        redoc_url=None,
    )
    install_docs(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.gateway_cors_origins,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "DELETE"],
        allow_headers=["*"],
    )

    if settings.metrics_enabled:
        # Requests by route template and status, latencies; /metrics, open (api/metrics.py).
        install_metrics(app)
    app.add_middleware(RequestIds)
    _install_errors(app)
    _install_routes(app, settings)
    app.state.tracing = install_tracing(app, tracer_provider)
    return app


class RequestIds:
    """Pure ASGI (no per-request task as with `@app.middleware`): gives each request its
    X-Request-ID (the client's, or a new one), echoes it, and logs the request once, except health
    checks from loopback (Docker's and the launcher's probes)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = Headers(scope=scope).get(REQUEST_ID, "")
        if not request_id or len(request_id) > 128 or not request_id.isprintable():
            request_id = secrets.token_hex(16)
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            client = scope.get("client")
            if not (scope["path"] in HEALTH_PATHS and client and client[0] in _LOOPBACK):
                log.info(
                    "request",
                    request_id=request_id,
                    method=scope["method"],
                    path=scope["path"],
                    status=status,
                    ms=round((time.perf_counter() - started) * 1000, 2),
                )


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(GatewayError)
    async def _gateway(_request: Request, exc: GatewayError) -> JSONResponse:
        return envelope.error(exc.status, exc.message, exc.data)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        messages = {404: "Recurso no encontrado", 405: "Método no permitido"}
        return envelope.error(exc.status_code, messages.get(exc.status_code, str(exc.detail)))

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return envelope.error(400, "Datos inválidos en la solicitud")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", path=request.url.path)
        return envelope.error(500, "Error interno del gateway")


def _headers(request: Request) -> dict[str, str]:
    headers = {k: v for k, v in request.headers.items() if k.lower() in _FORWARDED}
    headers[REQUEST_ID] = request.state.request_id
    if request.app.state.tracing:
        from opentelemetry import propagate

        propagate.inject(headers)
    return headers


def _answer(response: httpx.Response, message) -> JSONResponse:
    """The platform's answer in the seed's envelope: a success is the seed's 200 (the platform's 202
    for work started says the same thing: `status` in `data` tells how far it got); an error keeps
    its status, message and code."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.is_success:
        return envelope.success(body, message(body))
    problem = body.get("error") if isinstance(body, dict) else None
    if isinstance(problem, dict):
        data = {"code": problem.get("code"), "details": problem.get("details") or {}}
        text = str(problem.get("message"))
        if response.status_code == 404 and "runner_id" in data["details"]:
            text = "Runner no encontrado"  # the seed's words for its clients
        return envelope.error(response.status_code, text, data)
    return envelope.error(response.status_code, f"El orquestador respondió {response.status_code}")


def _install_routes(app: FastAPI, settings: Settings) -> None:
    def upstream(request: Request) -> Upstream:
        return request.app.state.upstream

    async def forward(
        request: Request, method: str, path: str, message, **kwargs: Any
    ) -> JSONResponse:
        response = await upstream(request).request(
            method, path, headers=_headers(request), request_id=request.state.request_id, **kwargs
        )
        return _answer(response, message)

    @app.post("/api/v1/runners", tags=["runners"])
    async def create_runners(request: Request) -> JSONResponse:
        raw = await request.body()
        if len(raw) > settings.max_request_bytes:
            raise GatewayError(413, "El cuerpo de la solicitud es demasiado grande")
        require_json(request.headers.get("content-type"))
        body = parse_json(raw)
        validate_runner_request(body)
        headers = _headers(request)
        # One key per client request: a retry of this POST never starts its runners twice.
        headers.setdefault("idempotency-key", f"gw-{uuid.uuid4().hex}")
        headers["content-type"] = "application/json"
        response = await upstream(request).request(
            "POST",
            "/api/v1/runners",
            headers=headers,
            request_id=request.state.request_id,
            content=raw,
        )
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if response.is_success and isinstance(payload, dict) and "runners" in payload:
            runners = payload["runners"]
            return envelope.success(runners, f"Creados {len(runners)} runners exitosamente")
        return _answer(response, lambda _body: "Runners en creación")

    @app.get("/api/v1/runners", tags=["runners"])
    async def list_runners(request: Request) -> JSONResponse:
        return await forward(
            request,
            "GET",
            "/api/v1/runners",
            lambda body: f"Listados {len(body or [])} runners activos",
            # Only when there are any: an empty mapping still costs httpx a URL rebuild.
            **({"params": dict(request.query_params)} if request.query_params else {}),
        )

    @app.post("/api/v1/runners/cleanup", tags=["runners"])
    async def cleanup_runners(request: Request) -> JSONResponse:
        return await forward(
            request,
            "POST",
            "/api/v1/runners/cleanup",
            lambda _b: "Limpieza completada exitosamente",
        )

    @app.get("/api/v1/runners/{runner_id}", tags=["runners"])
    async def get_runner(request: Request, runner_id: str) -> JSONResponse:
        return await forward(
            request,
            "GET",
            f"/api/v1/runners/{runner_id}",
            lambda _b: "Estado obtenido exitosamente",
        )

    @app.delete("/api/v1/runners/{runner_id}", tags=["runners"])
    async def destroy_runner(request: Request, runner_id: str) -> JSONResponse:
        def message(body: Any) -> str:
            if isinstance(body, dict) and body.get("destroyed"):
                return f"Runner {runner_id} destruido exitosamente"
            return f"Runner {runner_id} en destrucción"

        return await forward(request, "DELETE", f"/api/v1/runners/{runner_id}", message)

    async def upstream_health(request: Request) -> str:
        try:
            response = await upstream(request).client.get(
                "/health", headers={REQUEST_ID: request.state.request_id}, timeout=3.0
            )
        except httpx.HTTPError:
            return "unreachable"
        return "healthy" if response.status_code == 200 else "unhealthy"

    async def full_health(request: Request) -> JSONResponse:
        orchestrator = await upstream_health(request)
        healthy = orchestrator == "healthy"
        data = {
            "status": "healthy" if healthy else "degraded",
            "service": "api-gateway",
            "version": VERSION,
            "orchestrator": orchestrator,
        }
        message = (
            "Gateway y orchestrator funcionando correctamente"
            if healthy
            else "Gateway con problemas en orchestrator"
        )
        return envelope.success(data, message)

    app.add_api_route("/api/v1/health", full_health, methods=["GET"], tags=["health"])
    app.add_api_route("/health", full_health, methods=["GET"], tags=["health"])

    @app.get("/healthz", tags=["health"])
    async def healthz() -> JSONResponse:
        data = {"status": "healthy", "service": "api-gateway", "version": VERSION}
        return envelope.success(data, "Gateway funcionando")
