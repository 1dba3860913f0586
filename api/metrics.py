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

from collections.abc import Callable

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_fastapi_instrumentator import Instrumentator

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
    app.state.metrics = metrics
    return metrics
