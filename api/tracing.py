"""Request spans for the API and the gateway (OpenTelemetry's FastAPI instrumentation), when the
process traces (core/tracing.py); nothing is installed otherwise."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from fastapi import FastAPI

from api.metrics import METRICS_PATH

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

# Probes and scrapes would be most of the traces and say nothing about a job.
UNTRACED = ("/health", "/healthz", "/api/v1/health", METRICS_PATH)


def install_tracing(app: FastAPI, provider: TracerProvider | None) -> bool:
    """Instruments `app` (before it starts) with `provider`; False, and nothing done, without one.

    One server span per request, named by method and route template, with the caller's trace
    continued from a `traceparent` header (the gateway sends one). Not the per-message
    `receive`/`send` child spans (a streamed response would make hundreds), nor the
    instrumentation's own metrics (`/metrics` has the HTTP ones)."""
    if provider is None:
        return False
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.metrics import NoOpMeterProvider

    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        meter_provider=NoOpMeterProvider(),
        # Matched against `scheme://host/path`.
        excluded_urls=",".join(f"://[^/]+{re.escape(path)}$" for path in UNTRACED),
        exclude_spans=["receive", "send"],
    )
    return True
