"""The Grafana dashboard (deploy/grafana/dashboards/) asks only for metrics the platform really
exports: every metric name in every panel's PromQL is checked against what a running API and a
running worker (its Temporal SDK runtime's endpoint) serve after a completed, a held and a failed
job. The held-jobs gauge counts the held one."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid

import httpx

from contracts import task_queues
from providers.tls import client_context
from temporal.client import connect
from temporal.metrics import metrics_url, worker_runtime
from tests.helpers.job_controls import held, refuse_access_policy, start_deploy
from tests.helpers.platform import ADMIN_KEY, ROOT, ApiServer, free_port, unique_name, wait_for_job
from worker import build_worker

DASHBOARDS = ROOT / "deploy/grafana/dashboards"
# What the operators asked the dashboard to show, by the metric that shows it.
REQUIRED = {
    "jobs started by operation": "conneskills_jobs_started_total",
    "job failures": "temporal_workflow_failed",
    "activity schedule-to-start": "temporal_activity_schedule_to_start_latency_bucket",
    "workflow task schedule-to-start": "temporal_workflow_task_schedule_to_start_latency_bucket",
    "held jobs": "conneskills_jobs_held",
    "overdue jobs": "conneskills_jobs_overdue",
    "API latency": "http_request_duration_highr_seconds_bucket",
    "API latency by route": "http_request_duration_seconds_bucket",
}
_FUNCTIONS_AND_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
_FUNCTIONS_AND_KEYWORDS |= {"and", "or", "unless", "bool", "offset"}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (not its functions, labels or ranges)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(?:by|without|on|ignoring)\s*\([^)]*\)", "", expr)
    functions = set(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(", expr))
    words = set(re.findall(r"(?<![\w.])([A-Za-z_:][A-Za-z0-9_:]*)", expr))
    return words - functions - _FUNCTIONS_AND_KEYWORDS


def exported_names(text: str) -> set[str]:
    """The families (`# TYPE` lines: also one with no sample yet) and sample names of a scrape,
    so a histogram counts as `x`, `x_bucket`, `x_sum` and `x_count`."""
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            names.add(line.split()[2])
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def panel_queries() -> list[tuple[str, str, str]]:
    return [
        (path.name, panel["title"], target["expr"])
        for path in sorted(DASHBOARDS.glob("*.json"))
        for panel in json.loads(path.read_text())["panels"]
        for target in panel.get("targets", [])
    ]


def test_metric_names_are_read_from_promql():
    expr = (
        "topk(10, histogram_quantile(0.95, sum by (le, handler) (rate(http_request_duration_"
        'seconds_bucket{job="api", handler!="none"}[$__rate_interval]))))'
    )
    assert metric_names(expr) == {"http_request_duration_seconds_bucket"}
    assert metric_names("60 * sum by (operation) (rate(a_total[5m])) / max(b)") == {"a_total", "b"}


def _sample(text: str, name: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


async def test_every_panel_reads_metrics_the_platform_exports(settings, db, clean_faults):
    own = settings.model_copy(
        update={
            # Queues of its own, so the counts are this test's jobs; the gauges refreshed quickly.
            "task_queue": f"dash-{uuid.uuid4().hex[:8]}",
            "worker_metrics_port": free_port(),
            "metrics_job_gauges_seconds": 0.3,
        }
    )
    client = await connect(own, runtime=worker_runtime(own))
    async with build_worker(client, own, db, [task_queues.PROVISIONING]):
        with ApiServer(own) as server:
            async with httpx.AsyncClient(
                verify=client_context(),
                base_url=server.url,
                headers={"X-API-Key": ADMIN_KEY},
                timeout=30,
            ) as api:
                done = await start_deploy(api, unique_name("dash"))
                assert (await wait_for_job(api, done))["status"] == "completed"
                name = unique_name("dashhold")
                refuse_access_policy(clean_faults, name)
                holding = await start_deploy(api, name, hold=True)
                assert (await held(api, holding))["status"] == "needs_attention"
                deadline = time.monotonic() + 20
                while _sample((await api.get("/metrics")).text, "conneskills_jobs_held") != 1:
                    assert time.monotonic() < deadline, "the held job was never counted"
                    await asyncio.sleep(0.2)
                response = await api.post(f"/api/v1/jobs/{holding}/rollback", json={})
                assert response.status_code == 202, response.text
                assert (await wait_for_job(api, holding))["status"] == "failed"
                api_text = (await api.get("/metrics")).text
        worker_text = (await asyncio.to_thread(httpx.get, metrics_url(own))).text

    exported = exported_names(api_text) | exported_names(worker_text)
    queries = panel_queries()
    assert queries
    unknown = {
        (dashboard, title, name)
        for dashboard, title, expr in queries
        for name in metric_names(expr)
        if name not in exported
    }
    assert not unknown, unknown
    used = {name for _, _, expr in queries for name in metric_names(expr)}
    missing = {what: name for what, name in REQUIRED.items() if name not in used}
    assert not missing, missing
    # The failed and the completed job, as the worker's SDK counted them.
    assert re.search(
        r'^temporal_workflow_failed\{.*workflow_type="DeployService"', worker_text, re.M
    )
    assert re.search(
        r'^temporal_workflow_completed\{.*workflow_type="DeployService"', worker_text, re.M
    )
