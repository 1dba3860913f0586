"""OpenTelemetry tracing for the API, the gateway and the worker: one tracer provider per process,
exporting over OTLP/HTTP, set up only when an OTLP endpoint is configured.

Off (no endpoint), nothing is set up: no provider, no interceptor, no middleware, so a request
or a job pays nothing for it. On, one trace follows a job from the HTTP request (the FastAPI
instrumentation, api/tracing.py) through `StartWorkflow`, `RunWorkflow` and each `RunActivity`
(temporalio.contrib.opentelemetry's TracingInterceptor on the Temporal client, which the worker's
Workers inherit: temporal/client.py), and every log line written inside a span carries its
`trace_id` and `span_id` (core/logging.py).

The exporter reads the rest of the standard variables itself (`OTEL_EXPORTER_OTLP_HEADERS`,
`…_TIMEOUT`, `…_COMPRESSION`), and the SDK its sampler (`OTEL_TRACES_SAMPLER`,
`OTEL_TRACES_SAMPLER_ARG`; default: every trace)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import structlog

from core.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

log = structlog.get_logger(__name__)

# Each process names itself in its spans' resource (`service.name`) unless settings say otherwise.
API = "conneskills-api"
GATEWAY = "conneskills-gateway"
WORKER = "conneskills-worker"

_lock = threading.Lock()
_providers: dict[tuple[str, str], TracerProvider] = {}


def traces_endpoint(settings: Settings) -> str | None:
    """Where spans are sent: `<otel_exporter_otlp_endpoint>/v1/traces`, as the OTLP/HTTP
    convention builds it from the base endpoint; None when tracing is off."""
    base = settings.otel_exporter_otlp_endpoint
    if not base:
        return None
    return f"{base.rstrip('/')}/v1/traces"


def tracer_provider(settings: Settings, service: str) -> TracerProvider | None:
    """The process' provider for `service`, built on first use (one per endpoint and service
    name, so the API's app and its Temporal client share theirs); None when tracing is off.

    Spans leave in batches from a background thread (BatchSpanProcessor), never on the request
    path; an unreachable collector costs dropped spans, not slower requests."""
    endpoint = traces_endpoint(settings)
    if endpoint is None:
        return None
    name = settings.otel_service_name or service
    with _lock:
        provider = _providers.get((endpoint, name))
        if provider is None:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.resources import SERVICE_NAME, Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor

            provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
            _providers[(endpoint, name)] = provider
            log.info("tracing", endpoint=endpoint, service=name)
    return provider


def shutdown() -> None:
    """Sends the spans still queued (each provider waits up to its exporter's timeout)."""
    with _lock:
        providers = list(_providers.values())
    for provider in providers:
        provider.shutdown()
