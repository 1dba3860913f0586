"""Job start cost: POST /api/v1/services/deploy against two anchors in the same run.

The anchors: bare `client.start_workflow` (what Temporal itself costs) and a bare FastAPI endpoint
that validates nothing and calls `start_workflow` (bench/bare_start.py: what a user would write
instead of the platform), so what the HTTP client and server cost shows apart from what the
platform adds. Starts its own dev server (SQLite file with the `make run` pragmas), local cloud and
API (the launcher's `api_command`) in a temp dir; for 1, 10 and 50 concurrent clients prints
p50/p99 and starts/s of each side and the API/side ratios (at 50 clients for each of
`--rounds` interleaved rounds; the verdict takes the median round's ratio). Two more API
processes run the same rounds, for what telemetry costs: one with both `/metrics` and tracing off,
one with both on (spans exported over OTLP/HTTP to bench/otlp_sink.py, a collector stand-in in this
process); each round prints their ratio. Then fills Temporal with N jobs and times the first page of
GET /api/v1/jobs against a bare list_workflows. Ends with one line per target (at 50 clients p99 ≤
1.3× and starts/s ≥ 0.8× bare; listing ≤ 1.3× bare; with metrics and tracing on, starts/s ≥ 0.9× both
off), "met" or "not met".

    python bench/job_start.py [--requests 200] [--jobs 10000] [--workers N] [--rounds 5]
                              [--http-client lean|httpx] [--profile stacks.txt]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import free_port, percentile, wait_http, wait_port  # noqa: E402
from bench.otlp_sink import OtlpSink  # noqa: E402
from contracts.provisioning.services import DeployServiceInput, ServiceSpec  # noqa: E402
from contracts.task_queues import queue_for_workflow  # noqa: E402
from core.settings import Settings  # noqa: E402
from gateway.transport import UpstreamTransport  # noqa: E402
from localcloud.testing import LocalCloud  # noqa: E402
from temporal import search_attributes as sa  # noqa: E402
from temporal.client import data_converter  # noqa: E402
from temporal.launcher import SQLITE_PRAGMAS, api_command, temporal_command  # noqa: E402

ADMIN_KEY = "csk_bench_admin_key"
# The telemetry comparison's two API processes (the plain "API" side keeps the defaults: /metrics
# on, tracing off).
TELEMETRY_OFF = "API telemetry off"
TELEMETRY_ON = "API metrics+traces"
IMAGE = "us-docker.pkg.dev/cloudrun/container/hello:latest"


async def run_clients(concurrency: int, total: int, one_start) -> tuple[list[float], float]:
    latencies: list[float] = []
    remaining = iter(range(total))

    async def client_loop() -> None:
        for _ in remaining:
            began = time.perf_counter()
            await one_start()
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(concurrency)))
    return latencies, total / (time.perf_counter() - began)


def _profiler(pid: int, output: str | None) -> subprocess.Popen | None:
    """py-spy sampling the API process (its workers too) for the 50-client API round: collapsed
    stacks, one line per stack with its sample count (flamegraph.pl or speedscope read them)."""
    if not output:
        return None
    spy = Path(sys.executable).with_name("py-spy")
    command = [str(spy), "record", "--pid", str(pid), "--subprocesses", "--rate", "250"]
    return subprocess.Popen(
        [*command, "--format", "raw", "--output", output],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _cpu_seconds(pid: int) -> float:
    """CPU time of a process and its live children (uvicorn's workers), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _load_average() -> str:
    """The machine's 1/5/15-minute load averages: a shared machine's other work shows here."""
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def _loop_name() -> str:
    try:
        import uvloop  # noqa: F401  (uvicorn's "auto" loop picks it when installed)

        return "uvloop"
    except ImportError:
        return "asyncio loop"


def _load_client(kind: str, **options) -> httpx.AsyncClient:
    """The HTTP side's load generator. `lean` (default): httpx over gateway/transport.py's
    keep-alive transport. With httpx's own (httpcore) pool, 50 requests in flight cost the bench
    process ~0.5 ms of CPU each on the cores the API and the dev server share, and stalled now and
    then for 1-2 s; both HTTP sides, bare FastAPI too, carried those tails, the bare client none
    (issue 9). `httpx` measures with it still."""
    if kind == "httpx":
        return httpx.AsyncClient(limits=httpx.Limits(max_connections=100), **options)
    return httpx.AsyncClient(transport=UpstreamTransport(max_idle=100), **options)


def spec_body() -> dict:
    return {"service_name": f"bench-{uuid.uuid4().hex[:10]}", "image": IMAGE}


async def main(
    requests: int, jobs: int, workers: int, profile: str | None, rounds: int, http_client: str
) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    temporal_port, ui_port, api_port = free_port(), free_port(), free_port()
    settings = Settings(
        data_dir=work,
        temporal_address=f"127.0.0.1:{temporal_port}",
        temporal_ui_port=ui_port,
        task_queue="bench-no-worker",
        api_port=api_port,
        admin_api_key=ADMIN_KEY,
        codec_key="YmVuY2gtb25seS1jb2RlYy1rZXktMzItYnl0ZXMhISE=",
    )
    procs: list[subprocess.Popen] = []
    cloud = LocalCloud.start(work / "localcloud")
    sink = OtlpSink().__enter__()
    try:
        procs.append(
            subprocess.Popen(
                temporal_command(settings, "127.0.0.1", temporal_port),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        wait_port(temporal_port)
        env = dict(os.environ)
        for field, value in {
            "DATA_DIR": work,
            "TEMPORAL_ADDRESS": settings.temporal_address,
            "TASK_QUEUE": settings.task_queue,
            "ADMIN_API_KEY": ADMIN_KEY,
            "CODEC_KEY": settings.codec_key,
            "CLOUD_RUN_ENDPOINT": cloud.url,
            "LOGGING_ENDPOINT": cloud.url,
            "SECRET_MANAGER_ENDPOINT": cloud.url,
            "IAM_ENDPOINT": cloud.url,
        }.items():
            env[f"CONNESKILLS_{field}"] = str(value)
        api = api_command(
            settings.model_copy(update={"api_port": api_port, "api_workers": workers})
        )
        api_proc = subprocess.Popen(
            api,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(work / "api.log").open("wb"),
        )
        procs.append(api_proc)
        bare_app_port = free_port()
        bare_app = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.bare_start:app",
                "--port",
                str(bare_app_port),
                "--workers",
                str(workers),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(bare_app)
        # Listening is not ready: with workers, uvicorn's parent binds before they have started.
        wait_http(f"http://127.0.0.1:{bare_app_port}/docs")
        wait_http(f"http://127.0.0.1:{api_port}/health")
        telemetry_ports = {TELEMETRY_OFF: free_port(), TELEMETRY_ON: free_port()}
        telemetry_env = {
            TELEMETRY_OFF: {"CONNESKILLS_METRICS_ENABLED": "false"},
            TELEMETRY_ON: {
                "CONNESKILLS_METRICS_ENABLED": "true",
                "CONNESKILLS_OTEL_EXPORTER_OTLP_ENDPOINT": sink.url,
            },
        }
        telemetry_procs = {}
        for name, port in telemetry_ports.items():
            side_env = {
                k: v for k, v in env.items() if not k.startswith(("OTEL_", "CONNESKILLS_OTEL_"))
            }
            telemetry_procs[name] = subprocess.Popen(
                api_command(settings.model_copy(update={"api_port": port, "api_workers": workers})),
                cwd=ROOT,
                # The first API has migrated the shared database; these only use it.
                env={**side_env, **telemetry_env[name], "CONNESKILLS_MIGRATE_ON_START": "false"},
                stdout=subprocess.DEVNULL,
                stderr=(work / f"api-{port}.log").open("wb"),
            )
            procs.append(telemetry_procs[name])
        for port in telemetry_ports.values():
            wait_http(f"http://127.0.0.1:{port}/health", seconds=240)
        client = await Client.connect(
            settings.temporal_address, data_converter=data_converter(settings)
        )
        pragmas = " ".join(p for p in SQLITE_PRAGMAS if not p.startswith("--"))
        config = (
            f"dev server: SQLite file with pragmas {pragmas}; API and bare FastAPI: {workers} "
            f"uvicorn process(es) each ({_loop_name()}); {os.cpu_count()} cores; "
            f"{requests} starts per round; HTTP load from {http_client}"
        )
        print(f"{config}; load average at start {_load_average()}\n")

        async with (
            _load_client(
                http_client,
                base_url=f"http://127.0.0.1:{api_port}",
                headers={"X-API-Key": ADMIN_KEY},
                timeout=60,
            ) as http,
            _load_client(
                http_client, base_url=f"http://127.0.0.1:{bare_app_port}", timeout=60
            ) as bare_http,
            _load_client(
                http_client,
                base_url=f"http://127.0.0.1:{telemetry_ports[TELEMETRY_OFF]}",
                headers={"X-API-Key": ADMIN_KEY},
                timeout=60,
            ) as off_http,
            _load_client(
                http_client,
                base_url=f"http://127.0.0.1:{telemetry_ports[TELEMETRY_ON]}",
                headers={"X-API-Key": ADMIN_KEY},
                timeout=60,
            ) as on_http,
        ):
            # A start Temporal did not answer within the API's bound (temporal_api_timeout_seconds)
            # is a 503: counted and reported, the run goes on (a loaded shared machine has them).
            unanswered: dict[str, int] = {}

            def platform_start(name: str, side_http: httpx.AsyncClient):
                async def start() -> None:
                    response = await side_http.post("/api/v1/services/deploy", json=spec_body())
                    if response.status_code == 503:
                        unanswered[name] = unanswered.get(name, 0) + 1
                        return
                    assert response.status_code == 202, response.text

                return start

            api_start = platform_start("API", http)
            telemetry_off_start = platform_start(TELEMETRY_OFF, off_http)
            telemetry_on_start = platform_start(TELEMETRY_ON, on_http)

            async def fastapi_start() -> None:
                response = await bare_http.post("/api/v1/services/deploy", json=spec_body())
                assert response.status_code == 202, response.text

            async def bare_start() -> None:
                body = spec_body()
                await client.start_workflow(
                    "DeployService",
                    DeployServiceInput(spec=ServiceSpec(**body), region="us-central1"),
                    id=f"deploy-{uuid.uuid4().hex[:12]}",
                    task_queue=queue_for_workflow(settings.task_queue, "DeployService"),
                    static_summary=f"deploy {body['service_name']}",
                    search_attributes=TypedSearchAttributes(
                        [
                            SearchAttributePair(sa.OPERATION, "deploy"),
                            SearchAttributePair(sa.JOB_PHASE, "queued"),
                            SearchAttributePair(sa.SUBJECT, f"service:{body['service_name']}"),
                        ]
                    ),
                )

            # Warm-up at full concurrency, so every side is measured with its connections open.
            for start in (
                api_start,
                fastapi_start,
                bare_start,
                telemetry_off_start,
                telemetry_on_start,
            ):
                await run_clients(50, 100, start)
            print(
                f"{'clients':>7} | {'side':<16} {'p50':>8} {'p99':>8} {'starts/s':>8} "
                f"{'CPU/start':>9} | "
                f"{'API/side p99':>12} {'API/side rate':>13}"
            )
            # CPU per start of the process serving each side (the bench's own for the bare client).
            pids = {
                "bare client": None,
                "bare FastAPI": bare_app.pid,
                "API": api_proc.pid,
                **{name: proc.pid for name, proc in telemetry_procs.items()},
            }
            at_50: list[dict[str, tuple[float, float]]] = []
            for concurrency in (1, 10, 50):
                total = requests if concurrency > 1 else max(20, requests // 4)
                # At 50 clients, several interleaved rounds: one round's ratio swings with whatever
                # else wakes up on the shared cores; the verdict takes the median round.
                for round_no in range(rounds if concurrency == 50 else 1):
                    rows: dict[str, tuple[float, float, float, float]] = {}
                    # Interleaved, so a slow patch of the shared machine hits every side alike, and
                    # each round in another order: every start leaves a workflow behind (no worker),
                    # so the dev server slows as a run goes on, and the side measured last in every
                    # round was always measured on the fullest server.
                    sides = [
                        ("bare client", bare_start),
                        ("bare FastAPI", fastapi_start),
                        ("API", api_start),
                        (TELEMETRY_OFF, telemetry_off_start),
                        (TELEMETRY_ON, telemetry_on_start),
                    ]
                    shift = round_no % len(sides)
                    for name, start in sides[shift:] + sides[:shift]:
                        spy = (
                            _profiler(api_proc.pid, profile)
                            if name == "API" and concurrency == 50 and round_no == 0
                            else None
                        )
                        if spy:
                            await asyncio.sleep(1)  # attached before the round starts
                        cpu_before = _cpu_seconds(pids[name]) if pids[name] else time.process_time()
                        latencies, rate = await run_clients(concurrency, total, start)
                        cpu = (
                            _cpu_seconds(pids[name]) if pids[name] else time.process_time()
                        ) - cpu_before
                        if spy:
                            spy.send_signal(signal.SIGINT)
                            spy.wait(timeout=30)
                        rows[name] = (
                            percentile(latencies, 0.5),
                            percentile(latencies, 0.99),
                            rate,
                            cpu / total,
                        )
                    api = rows["API"]
                    for name in ("bare client", "bare FastAPI", "API", TELEMETRY_OFF, TELEMETRY_ON):
                        p50, p99, rate, cpu = rows[name]
                        ratios = (
                            f"{api[1] / p99:>12.2f} {api[2] / rate:>13.2f}"
                            if name in ("bare client", "bare FastAPI")
                            else ""
                        )
                        print(
                            f"{concurrency:>7} | {name:<16} {p50 * 1000:>6.1f}ms "
                            f"{p99 * 1000:>6.1f}ms {rate:>8.1f} {cpu * 1000:>7.2f}ms | {ratios}"
                        )
                    on, off = rows[TELEMETRY_ON], rows[TELEMETRY_OFF]
                    print(
                        f"{'':>7} | metrics+traces / both off: p99 {on[1] / off[1]:.2f}x, "
                        f"starts/s {on[2] / off[2]:.2f}x, CPU/start {on[3] / off[3]:.2f}x"
                    )
                    if concurrency == 50:
                        at_50.append({name: (row[1], row[2]) for name, row in rows.items()})

            summary = [
                (
                    f"API p99 at 50 clients <= 1.3x bare client (median of {rounds} rounds)",
                    statistics.median(r["API"][0] / r["bare client"][0] for r in at_50),
                    lambda ratio: ratio <= 1.3,
                ),
                (
                    f"API starts/s at 50 clients >= 0.8x bare client (median of {rounds} rounds)",
                    statistics.median(r["API"][1] / r["bare client"][1] for r in at_50),
                    lambda ratio: ratio >= 0.8,
                ),
                (
                    "API starts/s at 50 clients with metrics and tracing on >= 0.9x both off "
                    f"(median of {rounds} rounds)",
                    statistics.median(r[TELEMETRY_ON][1] / r[TELEMETRY_OFF][1] for r in at_50),
                    lambda ratio: ratio >= 0.9,
                ),
            ]
            print(
                f"\ntraced API: {sink.requests} OTLP export requests, {sink.bytes / 1e6:.1f} MB "
                "received by the collector stand-in"
            )
            if unanswered:
                print(f"503 (Temporal did not answer in time), by side: {unanswered}")
            if jobs:
                have = (await client.count_workflows()).count
                if jobs > have:
                    print(f"\nfilling Temporal up to {jobs} jobs ({jobs - have} bare starts)…")
                    await run_clients(50, jobs - have, bare_start)
                await asyncio.sleep(2)  # let visibility catch up

                async def first_page_api() -> None:
                    response = await http.get("/api/v1/jobs", params={"limit": 50})
                    assert response.status_code == 200 and len(response.json()["jobs"]) == 50

                async def first_page_bare() -> None:
                    page = [e async for e in client.list_workflows(limit=50, page_size=50)]
                    assert len(page) == 50

                # Interleaved rounds; the median of all of them.
                api_times: list[float] = []
                bare_times: list[float] = []
                api_cpu = 0.0
                spy = _profiler(api_proc.pid, profile and f"{profile}.listing")
                if spy:
                    await asyncio.sleep(1)
                for _ in range(5):
                    cpu_before = _cpu_seconds(api_proc.pid)
                    api_times += (await run_clients(1, 4, first_page_api))[0]
                    api_cpu += _cpu_seconds(api_proc.pid) - cpu_before
                    bare_times += (await run_clients(1, 4, first_page_bare))[0]
                if spy:
                    spy.send_signal(signal.SIGINT)
                    spy.wait(timeout=30)
                count = (await client.count_workflows()).count
                listing = statistics.median(api_times) / statistics.median(bare_times)
                print(
                    f"\nGET /api/v1/jobs?limit=50 over {count} jobs: median "
                    f"{statistics.median(api_times) * 1000:.1f}ms vs bare list_workflows "
                    f"{statistics.median(bare_times) * 1000:.1f}ms (ratio {listing:.2f}); "
                    f"API process CPU {api_cpu / len(api_times) * 1000:.1f}ms per listing"
                )
                summary.append(
                    (
                        "GET /jobs?limit=50 median <= 1.3x bare list_workflows",
                        listing,
                        lambda ratio: ratio <= 1.3,
                    )
                )
            print(f"\nsummary ({config}; load average {_load_average()}):")
            for target, ratio, met in summary:
                print(f"  {target}: {ratio:.2f}x, {'met' if met(ratio) else 'not met'}")
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(timeout=20)
        cloud.stop()
        sink.__exit__()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=10_000, help="0 skips the listing")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds at 50 clients")
    parser.add_argument(
        "--http-client",
        choices=["lean", "httpx"],
        default="lean",
        help="the HTTP sides' load generator (see _load_client)",
    )
    parser.add_argument("--workers", type=int, default=Settings().api_workers)
    parser.add_argument(
        "--profile",
        help="write py-spy collapsed stacks of the API here (50-client round; PATH.listing: listing)",
    )
    args = parser.parse_args()
    asyncio.run(
        main(args.requests, args.jobs, args.workers, args.profile, args.rounds, args.http_client)
    )
