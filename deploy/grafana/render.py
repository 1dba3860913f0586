"""Draws the Grafana dashboard's panels from a real run, for the docs (docs/img/dashboard.png): no
Grafana or Prometheus needed, only Chromium (Debian's `chromium`) to turn the page into a PNG.

Runs the platform in this process (a Temporal dev server, the local cloud, the API in a thread and
a worker for every system, the SDK metrics on their endpoint), sends it a few minutes' worth of
deploys, some failing, some held (and then overdue, with a short expected duration and a reaper
every few seconds), and scrapes the API's and the worker's `/metrics` every `--scrape` seconds,
as Prometheus would. Then evaluates each panel's PromQL over those scrapes (the subset the
dashboard uses: selectors with `=`/`!=`, `rate`, `sum`/`max`/`min`/`avg` with `by`, `topk`,
`histogram_quantile`, a number times an expression) and draws the panels in the dashboard's
layout as SVG in an HTML page, which headless Chromium screenshots.

    python deploy/grafana/render.py [--seconds 90] [--scrape 2] [--output docs/img/dashboard.png]
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import math
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.common import free_port, wait_port  # noqa: E402
from core.settings import Settings  # noqa: E402
from localcloud.testing import LocalCloud  # noqa: E402
from store.db import Database  # noqa: E402
from temporal.client import connect  # noqa: E402
from temporal.launcher import temporal_command  # noqa: E402
from temporal.metrics import metrics_url, worker_runtime  # noqa: E402

DASHBOARD = ROOT / "deploy/grafana/dashboards/conneskills-platform.json"
ADMIN_KEY = "csk_render_admin_key"
IMAGE = "us-docker.pkg.dev/cloudrun/container/hello:latest"
COLORS = ["#73bf69", "#f2cc0c", "#8ab8ff", "#ff780a", "#f2495c", "#5794f2", "#b877d9", "#96d98d"]

# --- scrapes --------------------------------------------------------------------------------

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)")
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse(text: str, extra: dict[str, str]) -> dict[tuple[str, frozenset], float]:
    samples = {}
    for line in text.splitlines():
        match = SAMPLE.match(line)
        if not match or line.startswith("#"):
            continue
        labels = dict(LABEL.findall(match[2] or ""))
        samples[(match[1], frozenset({**labels, **extra}.items()))] = float(match[3])
    return samples


# --- a PromQL subset --------------------------------------------------------------------------

TOKEN = re.compile(
    r'\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_:$][\w:]*)|("(?:[^"\\]|\\.)*")|(!=|=~|[(){}\[\],*=]))'
)


def tokenize(expr: str) -> list[str]:
    tokens, at = [], 0
    while at < len(expr.rstrip()):
        match = TOKEN.match(expr, at)
        if not match:
            raise ValueError(f"cannot read {expr[at:]!r}")
        tokens.append(next(group for group in match.groups() if group is not None))
        at = match.end()
    return tokens


class Parser:
    AGGREGATIONS = {"sum", "max", "min", "avg"}

    def __init__(self, expr: str) -> None:
        self.tokens, self.at = tokenize(expr), 0

    def take(self, expected: str | None = None) -> str:
        token = self.tokens[self.at]
        if expected is not None and token != expected:
            raise ValueError(f"expected {expected!r}, found {token!r}")
        self.at += 1
        return token

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def expr(self):
        left = self.primary()
        if self.peek() == "*":
            self.take()
            return ("mul", left, self.expr())
        return left

    def labels(self) -> list[str]:
        self.take("(")
        names = []
        while self.peek() != ")":
            names.append(self.take())
            if self.peek() == ",":
                self.take()
        self.take(")")
        return names

    def primary(self):
        token = self.take()
        if re.fullmatch(r"\d+(?:\.\d+)?", token):
            return ("number", float(token))
        if token in self.AGGREGATIONS:
            by = self.labels() if self.peek() == "by" and self.take() else None
            self.take("(")
            inner = self.expr()
            self.take(")")
            if by is None and self.peek() == "by":
                self.take()
                by = self.labels()
            return ("aggregate", token, by or [], inner)
        if token in ("rate", "histogram_quantile", "topk"):
            self.take("(")
            args = [self.expr()]
            while self.peek() == ",":
                self.take()
                args.append(self.expr())
            self.take(")")
            return ("call", token, args)
        matchers, window = [], None
        if self.peek() == "{":
            self.take()
            while self.peek() != "}":
                label, op, value = self.take(), self.take(), self.take()
                matchers.append((label, op, json.loads(value)))
                if self.peek() == ",":
                    self.take()
            self.take("}")
        if self.peek() == "[":
            self.take()
            window = self.take()
            self.take("]")
        return ("selector", token, matchers, window)


class Evaluator:
    """Evaluates at scrape `i` of `scrapes` [(seconds, samples)]; `rate` over `window` scrapes."""

    def __init__(self, scrapes: list, window: int) -> None:
        self.scrapes, self.window = scrapes, window

    def select(self, node, samples) -> dict[frozenset, float]:
        _, name, matchers, _ = node
        out = {}
        for (metric, labels), value in samples.items():
            if metric != name:
                continue
            found = dict(labels)
            if all((found.get(k, "") == v) == (op == "=") for k, op, v in matchers):
                out[labels] = value
        return out

    def eval(self, node, i):
        kind = node[0]
        if kind == "number":
            return node[1]
        if kind == "selector":
            return self.select(node, self.scrapes[i][1])
        if kind == "mul":
            left, right = self.eval(node[1], i), self.eval(node[2], i)
            if isinstance(left, float):
                return {k: left * v for k, v in right.items()}
            return {k: v * right for k, v in left.items()}
        if kind == "aggregate":
            _, how, by, inner = node
            groups: dict[frozenset, list[float]] = {}
            for labels, value in self.eval(inner, i).items():
                key = frozenset((k, v) for k, v in labels if k in by)
                groups.setdefault(key, []).append(value)
            reduce = {"sum": sum, "max": max, "min": min, "avg": lambda v: sum(v) / len(v)}[how]
            return {key: reduce(values) for key, values in groups.items()}
        _, function, args = node
        if function == "rate":
            if i < self.window:
                return {}
            then_t, then = self.scrapes[i - self.window]
            now_t, _ = self.scrapes[i]
            before = self.select(args[0], then)
            out = {}
            for labels, value in self.select(args[0], self.scrapes[i][1]).items():
                delta = value - before.get(labels, 0.0)
                out[labels] = (value if delta < 0 else delta) / (now_t - then_t)
            return out
        if function == "topk":
            k, vector = int(self.eval(args[0], i)), self.eval(args[1], i)
            return dict(sorted(vector.items(), key=lambda item: -item[1])[:k])
        q, vector = self.eval(args[0], i), self.eval(args[1], i)
        histograms: dict[frozenset, list[tuple[float, float]]] = {}
        for labels, value in vector.items():
            found = dict(labels)
            le = float(found.pop("le"))
            histograms.setdefault(frozenset(found.items()), []).append((le, value))
        return {
            labels: value
            for labels, buckets in histograms.items()
            if (value := quantile(q, sorted(buckets))) is not None
        }


def quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """Prometheus's histogram_quantile: linear within the bucket the rank falls in."""
    total = buckets[-1][1]
    if total <= 0:
        return None
    rank, lower, below = q * total, 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if math.isinf(upper):
                return lower
            return lower + (upper - lower) * (rank - below) / max(count - below, 1e-12)
        lower, below = upper, count
    return lower


# --- the run ----------------------------------------------------------------------------------


async def run_platform(seconds: float, scrape_every: float) -> list:
    from api.app import create_app
    from worker import build_worker

    work = Path(tempfile.mkdtemp(prefix="dashboard-"))
    temporal_port = free_port()
    settings = Settings(
        data_dir=work,
        temporal_address=f"127.0.0.1:{temporal_port}",
        temporal_ui_port=free_port(),
        task_queue=f"render-{uuid.uuid4().hex[:6]}",
        admin_api_key=ADMIN_KEY,
        codec_key="cmVuZGVyLW9ubHktY29kZWMta2V5LTMyLWJ5dGVzISE=",
        worker_metrics_port=free_port(),
        metrics_job_gauges_seconds=scrape_every,
        # Held jobs become overdue within seconds: the reaper runs every 6 s, a deploy is
        # expected to take 5.
        job_reaper_interval_minutes=0.1,
        job_expected_seconds={"DeployService": 5},
        worker_graceful_shutdown_seconds=0,
    )
    cloud = LocalCloud.start(work / "localcloud")
    host, _, port = cloud.url.removeprefix("http://").partition(":")
    settings = settings.model_copy(
        update={
            "localcloud_host": host,
            "localcloud_port": int(port),
            "cloud_run_endpoint": cloud.url,
            "logging_endpoint": cloud.url,
            "secret_manager_endpoint": cloud.url,
            "iam_endpoint": cloud.url,
            "api_port": free_port(),
        }
    )
    dev = subprocess.Popen(
        temporal_command(settings, "127.0.0.1", temporal_port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(temporal_port)
        db = Database(settings.resolved_database_url)
        client = await connect(settings, runtime=worker_runtime(settings))
        app = create_app(settings)
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=settings.api_port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()  # the API migrates the platform's tables at its start, before any job
        while not server.started:
            await asyncio.sleep(0.1)
        api_url = f"http://127.0.0.1:{settings.api_port}"
        async with (
            build_worker(client, settings, db),
            httpx.AsyncClient(
                base_url=api_url, headers={"X-API-Key": ADMIN_KEY}, timeout=30
            ) as api,
        ):
            scrapes = await drive(api, cloud, metrics_url(settings), seconds, scrape_every)
        server.should_exit = True
        thread.join(timeout=10)
        await db.dispose()
        return scrapes
    finally:
        dev.terminate()
        dev.wait(timeout=20)
        cloud.stop()
        shutil.rmtree(work, ignore_errors=True)


async def drive(api, cloud, worker_metrics: str, seconds: float, scrape_every: float) -> list:
    """Deploys at a varying pace (one in ten failing, one in twelve held, half the held rolled
    back later), while scraping both endpoints."""
    rng = random.Random(7)
    scrapes: list = []
    held: list[str] = []
    began = time.monotonic()
    stop = asyncio.Event()

    async def scraper() -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            while not stop.is_set():
                api_text = (await api.get("/metrics")).text
                worker_text = (await http.get(worker_metrics)).text
                samples = parse(api_text, {"job": "api"})
                samples |= parse(worker_text, {"job": "worker", "service": "worker"})
                scrapes.append((time.monotonic() - began, samples))
                await asyncio.sleep(scrape_every)

    async def one_job(kind: str) -> None:
        name = f"dash-{uuid.uuid4().hex[:8]}"
        headers = None
        if kind == "fail":
            cloud.inject_fault(
                fail_next=1, code=409, method="POST", path_contains=f"serviceId={name}"
            )
        elif kind == "hold":
            cloud.inject_fault(
                fail_next=50,
                code=400,
                method="POST",
                path_contains=f"/services/{name}:setIamPolicy",
            )
            headers = {"X-Job-On-Failure": "hold"}
        response = await api.post(
            "/api/v1/services/deploy", json={"service_name": name, "image": IMAGE}, headers=headers
        )
        job_id = response.json()["job_id"]
        for _ in range(100):
            job = (await api.get(f"/api/v1/jobs/{job_id}")).json()
            if job["status"] in ("completed", "failed", "needs_attention"):
                break
            await asyncio.sleep(0.3)
        if job["status"] == "needs_attention":
            held.append(job_id)

    task = asyncio.create_task(scraper())
    jobs = []
    while (elapsed := time.monotonic() - began) < seconds:
        # A pace that rises and falls, as a day's would.
        pace = 1.5 + 1.2 * math.sin(elapsed / seconds * 2 * math.pi)
        kind = rng.choices(["ok", "fail", "hold"], weights=[82, 10, 8])[0]
        jobs.append(asyncio.create_task(one_job(kind)))
        if len(held) > 2 and rng.random() < 0.05:
            await api.post(f"/api/v1/jobs/{held.pop(0)}/rollback", json={})
        await asyncio.sleep(1 / pace)
    await asyncio.gather(*jobs)
    await asyncio.sleep(scrape_every * 3)
    stop.set()
    await task
    return scrapes


# --- drawing ----------------------------------------------------------------------------------


def fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "reqps":
        return f"{value:.2f} req/s"
    return f"{value:.2f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.0f}"


def legend(template: str, labels: frozenset) -> str:
    found = dict(labels)
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: found.get(m[1], ""), template) or "value"


def series_of(panel: dict, scrapes: list, evaluator: Evaluator) -> dict[str, list]:
    out: dict[str, list] = {}
    for target in panel["targets"]:
        tree = Parser(target["expr"]).expr()
        for i, (t, _) in enumerate(scrapes):
            for labels, value in evaluator.eval(tree, i).items():
                out.setdefault(legend(target["legendFormat"], labels), []).append((t, value))
    return out


def nice(value: float) -> float:
    """The axis' top: the next 1, 2, 2.5 or 5 times a power of ten at or above `value`."""
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= value)


def timeseries_svg(series: dict[str, list], unit: str, width: int, height: int, span: float) -> str:
    left, bottom, top = 64, 22, 8
    plot_w, plot_h = width - left - 10, height - bottom - top
    peak = nice(max((v for points in series.values() for _, v in points), default=0) or 1)
    parts = []
    for k in range(5):
        y = top + plot_h * k / 4
        value = peak * (1 - k / 4)
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" class="axis" text-anchor="end">'
            f"{html.escape(fmt(value, unit))}</text>"
        )
    for k in range(5):
        x = left + plot_w * k / 4
        parts.append(
            f'<text x="{x:.1f}" y="{height - 4}" class="axis" text-anchor="middle">'
            f"{span * k / 4:.0f}s</text>"
        )
    for n, (_, points) in enumerate(sorted(series.items())):
        path = " ".join(
            f"{left + plot_w * t / span:.1f},{top + plot_h * (1 - v / peak):.1f}" for t, v in points
        )
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{COLORS[n % len(COLORS)]}" '
            'stroke-width="1.8"/>'
        )
    return f'<svg width="{width}" height="{height}">{"".join(parts)}</svg>'


def panel_html(panel: dict, scrapes: list, evaluator: Evaluator, cell: int, row: int) -> str:
    pos = panel["gridPos"]
    width, height = pos["w"] * cell - 8, pos["h"] * row - 8
    unit = panel["fieldConfig"]["defaults"].get("unit", "short")
    series = series_of(panel, scrapes, evaluator)
    span = scrapes[-1][0] or 1
    last = {name: points[-1][1] for name, points in series.items() if points}
    if panel["type"] == "stat":
        value = sum(last.values()) if last else 0
        color = "#c4162a" if value >= 1 else "#37872d"
        body = f'<div class="stat" style="background:{color}">{html.escape(fmt(value, unit))}</div>'
    elif panel["type"] == "bargauge":
        peak = max(last.values(), default=0) or 1
        bars = (
            "".join(
                f'<div class="bar"><span>{html.escape(name)}</span><div style="width:'
                f'{60 * v / peak:.0f}%;background:{"#f2495c" if v else "#37872d"}"></div>'
                f"<b>{html.escape(fmt(v, unit))}</b></div>"
                for name, v in sorted(last.items())
            )
            or '<div class="empty">no overdue jobs</div>'
        )
        body = f'<div class="bars">{bars}</div>'
    else:
        legend_rows = "".join(
            f'<div><i style="background:{COLORS[n % len(COLORS)]}"></i>{html.escape(name)}'
            f"<b>{html.escape(fmt(last.get(name, 0), unit))}</b></div>"
            for n, name in enumerate(sorted(series))
        )
        chart = timeseries_svg(series, unit, int(width * 0.66), height - 40, span)
        body = f'<div class="ts">{chart}<div class="legend">{legend_rows}</div></div>'
    return (
        f'<div class="panel" style="left:{pos["x"] * cell}px;top:{pos["y"] * row}px;'
        f'width:{width}px;height:{height}px"><h3>{html.escape(panel["title"])}</h3>{body}</div>'
    )


STYLE = """
body{margin:0;background:#111217;font-family:Inter,Helvetica,Arial,sans-serif;color:#ccccdc}
header{padding:10px 16px;font-size:18px;color:#fff}header small{color:#8e8e9e;font-size:12px;margin-left:12px}
.grid-area{position:relative;margin:0 8px}
.panel{position:absolute;background:#181b1f;border:1px solid #2c3235;border-radius:3px;overflow:hidden}
h3{margin:0;padding:6px 10px;font-size:13px;font-weight:500;color:#d8d9da}
.ts{display:flex}.legend{font-size:11px;padding:4px 6px;overflow:hidden;flex:1}
.legend div{display:flex;align-items:center;gap:5px;white-space:nowrap;margin:2px 0}
.legend i{width:10px;height:3px;display:inline-block}.legend b{margin-left:auto;font-weight:400;color:#fff}
.grid{stroke:#2c3235;stroke-width:1}.axis{fill:#8e8e9e;font-size:10px}
.stat{margin:8px;height:calc(100% - 50px);display:flex;align-items:center;justify-content:center;font-size:48px;color:#fff;border-radius:3px}
.bars{padding:6px 10px;font-size:12px}.bar{display:flex;align-items:center;gap:8px;margin:6px 0}
.bar span{width:130px}.bar div{height:14px}.bar b{font-weight:400}.empty{color:#8e8e9e;padding:20px}
"""


def page(dashboard: dict, scrapes: list, window: int, note: str) -> tuple[str, int]:
    cell, row = 60, 30
    evaluator = Evaluator(scrapes, window)
    panels = "".join(panel_html(p, scrapes, evaluator, cell, row) for p in dashboard["panels"])
    bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in dashboard["panels"]) * row
    document = (
        f"<!doctype html><html><head><meta charset='utf-8'><style>{STYLE}</style></head><body>"
        f"<header>{html.escape(dashboard['title'])}<small>{html.escape(note)}</small></header>"
        f'<div class="grid-area" style="height:{bottom}px">{panels}</div></body></html>'
    )
    return document, bottom + 60


def screenshot(document: str, output: Path, width: int, height: int) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("needs Chromium: apt-get install chromium")
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "dashboard.html"
        source.write_text(document)
        subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--user-data-dir={folder}/profile",
                f"--window-size={width},{height}",
                f"--screenshot={output.resolve()}",
                source.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--scrape", type=float, default=2.0)
    parser.add_argument("--output", type=Path, default=ROOT / "docs/img/dashboard.png")
    args = parser.parse_args()
    scrapes = asyncio.run(run_platform(args.seconds, args.scrape))
    dashboard = json.loads(DASHBOARD.read_text())
    note = (
        f"drawn by deploy/grafana/render.py from {len(scrapes)} scrapes of a real run "
        f"({scrapes[-1][0]:.0f} s, every {args.scrape:g} s), not a Grafana screenshot"
    )
    document, height = page(dashboard, scrapes, window=max(2, round(10 / args.scrape)), note=note)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    screenshot(document, args.output, 24 * 60 + 16, height)
    print(f"{args.output}: {len(scrapes)} scrapes")


if __name__ == "__main__":
    main()
