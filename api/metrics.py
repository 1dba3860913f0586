"""`GET /metrics` in Prometheus text format, for the API and the gateway.

HTTP metrics come from prometheus-fastapi-instrumentator: `http_requests_total{handler, method,
status}` and the latency histogram `http_request_duration_seconds{handler, method}`, where
`handler` is the **route template** (`/api/v1/services/{service_name}`), never a raw path, and a
path no route matches counts as `none`: no service, customer or key name reaches a label, and a
scanner cannot grow the series without bound. The API adds its own: jobs started by operation
(`conneskills_jobs_started_total{operation}`) and the audit queue's depth
(`conneskills_audit_queue_depth`).

Each app gets its own registry (not prometheus_client's global one), so several apps in one process
(the tests, an API next to a gateway) never collide, and one app's metrics never show in another's.

Decision: `/metrics` needs no key, like the health endpoints. What it shows is route templates,
status codes, operation names and counts: nothing about a tenant or a secret. Scrapers usually
cannot log in with the platform's keys, and keeping it open keeps scraping simple. It stays out of
the OpenAPI document (it is for operators). An operator who does not want it reachable from
outside blocks `/metrics` at the load balancer, or turns it off with `CONNESKILLS_METRICS_ENABLED=false`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_fastapi_instrumentator import Instrumentator
from prometheus_fastapi_instrumentator import routing as instrumentator_routing
from prometheus_fastapi_instrumentator.middleware import PrometheusInstrumentatorMiddleware
from starlette.requests import Request
from starlette.routing import Match, Route, WebSocketRoute, compile_path

METRICS_PATH = "/metrics"


class PlatformMetrics:
    """One app's registry and the platform's own metrics in it."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.jobs_started = Counter(
            "conneskills_jobs_started",
            "Jobs (Temporal workflows) started through the API, by operation; a repeated "
            "Idempotency-Key that returns an existing job does not count.",
            ["operation"],
            registry=self.registry,
        )
        self.audit_queue_depth = Gauge(
            "conneskills_audit_queue_depth",
            "Audit rows waiting in the API's in-process queue for the database.",
            registry=self.registry,
        )

    def job_started(self, operation: str) -> None:
        self.jobs_started.labels(operation=operation).inc()

    def watch_audit_queue(self, depth: Callable[[], float]) -> None:
        """Reads the depth at each scrape (never stale, nothing to update on the request path)."""
        self.audit_queue_depth.set_function(depth)


def install_metrics(app: FastAPI, metrics: PlatformMetrics | None = None) -> PlatformMetrics:
    """Instruments `app` (call before it starts) and serves its registry at `/metrics`."""
    metrics = metrics or PlatformMetrics()
    Instrumentator(
        should_group_status_codes=False,
        should_group_untemplated=True,
        excluded_handlers=[METRICS_PATH],
        registry=metrics.registry,
    ).instrument(app).expose(app, endpoint=METRICS_PATH, include_in_schema=False)
    for entry in app.user_middleware:
        if entry.cls is PrometheusInstrumentatorMiddleware:
            entry.cls = _TemplatedHandlers
    app.state.metrics = metrics
    return metrics


class _Leaf:
    """A route of an included router, matched on its full path template and its methods only."""

    __slots__ = ("path", "regex", "methods")

    def __init__(self, path: str, methods: set[str] | None) -> None:
        self.path = path
        self.regex: re.Pattern[str] = compile_path(path)[0]
        self.methods = methods

    def matches(self, route_path: str, method: str) -> Match:
        if not self.regex.match(route_path):
            return Match.NONE
        return Match.FULL if self.methods is None or method in self.methods else Match.PARTIAL


def _leaves(routes: list[Any], include_context: Any = None) -> list[Any] | None:
    """The app's routes in matching order, an included router's routes flattened to `_Leaf`s (its
    prefix applied); None for a kind of route this does not know (the library then resolves)."""
    found: list[Any] = []
    for route in routes:
        router = getattr(route, "original_router", None)
        context = getattr(route, "include_context", None)
        if router is not None and context is not None:
            combined = context if include_context is None else include_context.combine(context)
            inner = _leaves(list(router.routes), combined)
            if inner is None:
                return None
            found.extend(inner)
        elif include_context is None:
            found.append(route)  # the app's own: matched as the library matches it
        elif isinstance(route, WebSocketRoute) or type(route).__name__ == "APIWebSocketRoute":
            continue  # never an HTTP request's (the middleware sees only those)
        elif isinstance(route, Route):
            found.append(_Leaf(include_context.path_for(route), route.methods))
        else:
            return None
    return found


def _route_path(scope: dict) -> str:
    """The path relative to the app's root_path, as Starlette's routes match it."""
    path, root = scope["path"], scope.get("root_path", "")
    if not root or not path.startswith(root):
        return path
    if path == root:
        return ""
    return path[len(root) :] if path[len(root)] == "/" else path


class _TemplatedHandlers(PrometheusInstrumentatorMiddleware):
    """The instrumentator's middleware, with the `handler` label (the route template) found from
    the routes' path templates alone.

    The library asks FastAPI for every included route's effective context to find it: on the first
    request that builds all of them (every route's parameter and response adapters, ~0.17 s of CPU
    per app, most of a short-lived app's requests in the tests), where routing builds only the
    routers a request passes through. Same answers: first full match, else the first route whose
    path matches but not its method, else `None` (the request's own path when the other slash
    would match, as the router redirects)."""

    _table: tuple[Any, list[Any] | None] | None = None

    def _get_handler(self, request: Request) -> tuple[str, bool]:
        app = request.scope.get("app")
        routes = getattr(app, "routes", None)
        table = self._table
        if table is None or table[0] is not app:
            table = self._table = (app, _leaves(list(routes or [])))
        leaves = table[1]
        if leaves is None or self.should_include_root_path:
            return super()._get_handler(request)
        scope = request.scope
        name = _template(scope, leaves)
        if name is None and getattr(getattr(app, "router", None), "redirect_slashes", False):
            path = scope.get("path", "")
            toggled = path[:-1] if path.endswith("/") else path + "/"
            if toggled and toggled != path and _template({**scope, "path": toggled}, leaves):
                name = path
        return (name, True) if name else (request.url.path, False)


def _template(scope: dict, leaves: list[Any]) -> str | None:
    route_path, method = _route_path(scope), scope.get("method", "")
    partial: str | None = None
    for leaf in leaves:
        if isinstance(leaf, _Leaf):
            match, name = leaf.matches(route_path, method), leaf.path
        else:  # one of the app's own routes (the docs, a mount): the library's own answer
            match, _ = leaf.matches(scope)
            if match == Match.NONE:
                continue
            name = instrumentator_routing._get_route_name(scope, [leaf])
            if name is None:
                continue
        if match == Match.FULL:
            return name
        if match == Match.PARTIAL and partial is None:
            partial = name
    return partial
