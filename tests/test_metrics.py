"""`GET /metrics`: the API's (requests by route template, latency histograms, jobs started by
operation, the audit queue), the gateway's, and the worker's Temporal SDK metrics from the SDK
runtime's own endpoint."""

from __future__ import annotations

import asyncio
import re

import httpx
from temporalio.client import Client

from core.settings import Settings
from providers.tls import client_context
from temporal.client import connect
from temporal.metrics import metrics_url, worker_runtime
from tests.helpers.gateway import Recorder, gateway_for, json_answer
from tests.helpers.platform import free_port, unique_name, wait_for_job
from tests.helpers.provisioning import deploy
from tests.helpers.runners import Served


def _sample(text: str, name: str, **labels: str) -> float | None:
    """The value of the first sample of `name` carrying every label of `labels`."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


async def test_the_api_counts_job_starts_by_operation_and_times_routes(api, api_server):
    before = httpx.get(f"{api_server.url}/metrics", verify=client_context()).text
    started_before = _sample(before, "conneskills_jobs_started_total", operation="deploy") or 0

    job = await deploy(api, unique_name("metrics"))
    assert (await wait_for_job(api, job["job_id"]))["status"] == "completed"
    # The same Idempotency-Key again returns the job: no second start.
    name = unique_name("metricsidem")
    headers = {"Idempotency-Key": f"k-{name}"}
    body = {"service_name": name, "image": "us-docker.pkg.dev/cloudrun/container/hello:latest"}
    for _ in range(2):
        response = await api.post("/api/v1/services/deploy", json=body, headers=headers)
        assert response.status_code == 202, response.text

    # No key needed (docs/operating.md#metrics).
    scraped = httpx.get(f"{api_server.url}/metrics", verify=client_context())
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    text = scraped.text
    started = _sample(text, "conneskills_jobs_started_total", operation="deploy")
    assert started is not None and started - started_before == 2, started
    # Requests by route template (never the service's own name) and status; latency histogram.
    assert _sample(
        text,
        "http_requests_total",
        handler="/api/v1/services/deploy",
        method="POST",
        status="202",
    )
    assert _sample(
        text,
        "http_request_duration_seconds_bucket",
        handler="/api/v1/jobs/{job_id}",
        method="GET",
        le="+Inf",
    )
    assert name not in text
    assert _sample(text, "conneskills_audit_queue_depth") is not None
    # Not in the OpenAPI document: it is for operators.
    assert (
        "/metrics"
        not in httpx.get(
            f"{api_server.url}/openapi.json", timeout=60, verify=client_context()
        ).json()["paths"]
    )


def test_the_gateway_serves_its_own_metrics(settings):
    recorder = Recorder(lambda request, n: json_answer(200, {"runners": []}))
    with Served(recorder.app) as upstream, gateway_for(settings, upstream.url) as served:
        httpx.get(f"{served.url}/healthz", verify=client_context())
        text = httpx.get(f"{served.url}/metrics", verify=client_context()).text
    assert _sample(text, "http_requests_total", handler="/healthz", status="200")
    assert _sample(text, "http_request_duration_seconds_count", handler="/healthz")
    assert "conneskills_jobs_started_total" in text  # the same families, zero in the gateway


async def test_the_worker_runtime_serves_temporal_sdk_metrics(settings: Settings, client: Client):
    port = free_port()
    own = settings.model_copy(update={"worker_metrics_port": port})
    runtime = worker_runtime(own)
    assert runtime is not None
    worker_client = await connect(own, runtime=runtime)
    await worker_client.count_workflows()  # an RPC through the runtime: temporal_request counts it
    url = metrics_url(own)
    assert url == f"http://127.0.0.1:{port}/metrics"

    text = ""
    for _ in range(50):
        text = (await asyncio.to_thread(httpx.get, url)).text
        if re.search(r"^temporal_\w+", text, re.M):
            break
        await asyncio.sleep(0.1)
    assert re.search(r"^temporal_request\w*\{", text, re.M), text[:2000]

    # A second worker on the same port runs without metrics rather than failing to start.
    assert worker_runtime(own) is None
    assert worker_runtime(settings.model_copy(update={"worker_metrics_port": 0})) is None


def test_handler_labels_are_route_templates_from_the_routers_own_routes(settings: Settings):
    """The app serves its routers' route objects as they are (api/http.py, `include_routes`): no
    per-app inclusion whose routes FastAPI would build again on the first request that reaches
    them, for routing and for the instrumentator's `handler` label alike. The label is the route
    template; a path no route matches has none (counted as `none`)."""
    from prometheus_fastapi_instrumentator.routing import get_route_name
    from starlette.requests import Request

    from api.app import create_app
    from api.routes import jobs
    from api.routes.hosting import vms

    app = create_app(settings)
    served = {id(route) for route in app.routes}
    assert all(id(route) in served for route in (*jobs.router.routes, *vms.router.routes))
    assert not [route for route in app.routes if hasattr(route, "original_router")]
    expected = {
        "/api/v1/jobs/abc": "/api/v1/jobs/{job_id}",
        "/api/v1/jobs": "/api/v1/jobs",
        "/api/v1/services/foo/status": "/api/v1/services/{service_name}/status",
        "/vm/12": "/vm/{vm_id}",
        "/health": "/health",
        "/nope": None,
    }
    for path, template in expected.items():
        scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "app": app}
        scope |= {"headers": [], "query_string": b""}
        assert get_route_name(Request(scope), should_include_root_path=False) == template, path
