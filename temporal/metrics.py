"""The worker's Temporal SDK metrics (`temporal_*`: workflow and activity task latencies, polls,
slots, sticky cache, request failures), served in Prometheus text format by the SDK runtime's own
HTTP endpoint, `http://<worker_metrics_host>:<worker_metrics_port>/metrics`."""

from __future__ import annotations

import structlog
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from core.settings import Settings

log = structlog.get_logger(__name__)


def metrics_address(settings: Settings) -> str | None:
    """`host:port` of the worker's metrics endpoint, None when it is off (port 0)."""
    if not settings.worker_metrics_port:
        return None
    return f"{settings.worker_metrics_host}:{settings.worker_metrics_port}"


def metrics_url(settings: Settings) -> str | None:
    address = metrics_address(settings)
    return f"http://{address}/metrics" if address else None


def worker_runtime(settings: Settings) -> Runtime | None:
    """A runtime exporting the SDK's metrics, or None (the default runtime, no endpoint) when the
    endpoint is off or its port is taken: a worker without metrics still serves its queues."""
    address = metrics_address(settings)
    if address is None:
        return None
    try:
        runtime = Runtime(
            telemetry=TelemetryConfig(
                metrics=PrometheusConfig(bind_address=address, durations_as_seconds=True)
            )
        )
    except ValueError as error:  # the SDK's "Failed starting Prometheus exporter: …"
        log.warning("worker metrics off", address=address, error=str(error))
        return None
    log.info("worker metrics", url=metrics_url(settings))
    return runtime
