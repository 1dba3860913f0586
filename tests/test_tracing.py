"""Tracing: one trace follows a job from the API request through its workflow to its activities,
and the log lines written inside it carry its trace id (core/tracing.py)."""

from __future__ import annotations

import json
import uuid

import httpx
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from temporalio.contrib.opentelemetry import TracingInterceptor

from bench.otlp_sink import OtlpSink
from contracts import task_queues
from core import tracing
from gateway.app import create_app as create_gateway
from providers.tls import client_context
from temporal.client import connect
from tests.helpers.gateway import Recorder, json_answer
from tests.helpers.platform import ADMIN_KEY, ApiServer, unique_name, wait_for_job
from tests.helpers.provisioning import deploy
from tests.helpers.runners import Served
from worker import build_worker


async def test_one_trace_runs_from_the_deploy_request_through_the_workflow_to_its_activities(
    settings, db, capfd
):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    # Queues of its own: no worker of another test (untraced) takes this job's tasks.
    own = settings.model_copy(update={"task_queue": f"otel-{uuid.uuid4().hex[:8]}"})
    client = await connect(own, tracer_provider=provider)
    async with build_worker(client, own, db, [task_queues.PROVISIONING]):
        with ApiServer(own, tracer_provider=provider) as server:
            async with httpx.AsyncClient(
                verify=client_context(),
                base_url=server.url,
                headers={"X-API-Key": ADMIN_KEY},
                timeout=30,
            ) as api:
                started = await deploy(api, unique_name("otel"))
                job = await wait_for_job(api, started["job_id"])
    assert job["status"] == "completed", job
    provider.force_flush()
    spans = exporter.get_finished_spans()

    [request] = [
        s for s in spans if s.kind == SpanKind.SERVER and s.name == "POST /api/v1/services/deploy"
    ]
    trace_id = request.context.trace_id
    in_trace = [s for s in spans if s.context.trace_id == trace_id]
    by_name = {s.name: s for s in in_trace}
    start = by_name["StartWorkflow:DeployService"]
    run = by_name["RunWorkflow:DeployService"]
    assert start.parent.span_id == request.context.span_id
    assert run.parent.span_id == start.context.span_id
    assert run.attributes["temporalWorkflowID"] == started["job_id"]
    # Every step of the deploy, and the job's turn on its service (the ResourceLock workflow).
    for step in (
        "jobs.request_turn",
        "registry.customer_for_service",
        "cloud_run.apply_service",
        "cloud_run.set_invokers",
        "registry.upsert_service",
    ):
        activity = by_name[f"RunActivity:{step}"]
        assert activity.parent.span_id == by_name[f"StartActivity:{step}"].context.span_id
    assert "RunWorkflow:ResourceLock" in by_name, sorted(by_name)
    # Nothing of this job's own trace escaped into another one.
    job_spans = [
        s
        for s in spans
        if (s.attributes or {}).get("temporalWorkflowID") == started["job_id"]
        and s.name.startswith(("RunWorkflow", "StartActivity", "RunActivity"))
    ]
    assert {s.context.trace_id for s in job_spans} == {trace_id}
    # Health probes and scrapes are not traced.
    assert not [s for s in spans if s.kind == SpanKind.SERVER and "health" in s.name]

    # The worker's log lines for the job's activities name the trace.
    hex_id = format(trace_id, "032x")
    lines = []
    for line in capfd.readouterr().err.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            continue
    traced = [line for line in lines if line.get("trace_id") == hex_id]
    assert [line for line in traced if line.get("job_id") == started["job_id"]], lines[-20:]
    assert all(len(line["span_id"]) == 16 for line in traced)


async def test_without_an_otlp_endpoint_nothing_of_tracing_is_set_up(settings, api_server):
    assert settings.otel_exporter_otlp_endpoint is None
    assert tracing.tracer_provider(settings, tracing.API) is None
    client = await connect(settings, lazy=True)
    assert not [i for i in client.config()["interceptors"] if isinstance(i, TracingInterceptor)]
    assert not getattr(api_server.app, "_is_instrumented_by_opentelemetry", False)
    on = settings.model_copy(update={"otel_exporter_otlp_endpoint": "http://127.0.0.1:4318/"})
    assert tracing.traces_endpoint(on) == "http://127.0.0.1:4318/v1/traces"


async def test_the_gateway_carries_its_request_trace_to_the_platform(settings):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    recorder = Recorder(lambda request, n: json_answer(200, []))
    with Served(recorder.app) as upstream:
        own = settings.model_copy(update={"gateway_upstream_url": upstream.url})
        with Served(create_gateway(own, tracer_provider=provider)) as traced:
            httpx.get(
                f"{traced.url}/api/v1/runners", headers={"X-API-Key": "k"}, verify=client_context()
            )
        with Served(create_gateway(own)) as untraced:
            httpx.get(
                f"{untraced.url}/api/v1/runners",
                headers={"X-API-Key": "k"},
                verify=client_context(),
            )
    [span] = [s for s in exporter.get_finished_spans() if s.kind == SpanKind.SERVER]
    assert span.name == "GET /api/v1/runners"
    _version, trace_id, parent_id, _flags = recorder.requests[0]["headers"]["traceparent"].split(
        "-"
    )
    assert (trace_id, parent_id) == (
        format(span.context.trace_id, "032x"),
        format(span.context.span_id, "016x"),
    )
    assert "traceparent" not in recorder.requests[1]["headers"]


def test_with_an_otlp_endpoint_spans_reach_the_collector(settings):
    with OtlpSink() as collector:
        on = settings.model_copy(update={"otel_exporter_otlp_endpoint": collector.url})
        provider = tracing.tracer_provider(on, tracing.WORKER)
        assert provider is tracing.tracer_provider(on, tracing.WORKER)  # one per process
        with provider.get_tracer(__name__).start_as_current_span("a job"):
            pass
        assert provider.force_flush(timeout_millis=10_000)
        assert collector.requests == 1 and collector.bytes > 0
    resource = provider.resource.attributes
    assert resource["service.name"] == "conneskills-worker"
