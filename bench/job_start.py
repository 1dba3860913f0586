"""Job start cost: POST /api/v1/services/deploy against bare `client.start_workflow`, same run.

Starts its own dev server (SQLite file with the `make run` pragmas), local cloud and API process in a
temp dir, then for 1, 10 and 50 concurrent clients prints p50/p99 latency and starts/s of both, and
the API/bare ratios (targets: p99 ≤ 1.3× and starts/s ≥ 0.8× bare at 50 clients). Finally fills
Temporal with N jobs and times the first page of GET /api/v1/jobs against a bare list_workflows.

    python bench/job_start.py [--requests 200] [--jobs 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
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

from contracts.provisioning.services import DeployServiceInput, ServiceSpec  # noqa: E402
from core.settings import Settings  # noqa: E402
from localcloud.testing import LocalCloud  # noqa: E402
from temporal import search_attributes as sa  # noqa: E402
from temporal.client import data_converter  # noqa: E402
from temporal.launcher import SQLITE_PRAGMAS, temporal_command  # noqa: E402
from tests.conftest import free_port  # noqa: E402

ADMIN_KEY = "csk_bench_admin_key"
IMAGE = "us-docker.pkg.dev/cloudrun/container/hello:latest"


def wait_port(port: int, seconds: float = 30) -> None:
    import socket

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing listening on {port}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


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


def spec_body() -> dict:
    return {"service_name": f"bench-{uuid.uuid4().hex[:10]}", "image": IMAGE}


async def main(requests: int, jobs: int) -> None:
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
        }.items():
            env[f"CONNESKILLS_{field}"] = str(value)
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--factory",
                    "api.app:create_app",
                    "--port",
                    str(api_port),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        wait_port(api_port)
        client = await Client.connect(
            settings.temporal_address, data_converter=data_converter(settings)
        )
        pragmas = " ".join(p for p in SQLITE_PRAGMAS if not p.startswith("--"))
        print(
            f"dev server: SQLite file with pragmas {pragmas}; API: one uvicorn process; "
            f"{requests} starts per round\n"
        )

        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{api_port}",
            headers={"X-API-Key": ADMIN_KEY},
            timeout=60,
            limits=httpx.Limits(max_connections=100),
        ) as http:

            async def api_start() -> None:
                response = await http.post("/api/v1/services/deploy", json=spec_body())
                assert response.status_code == 202, response.text

            async def bare_start() -> None:
                body = spec_body()
                await client.start_workflow(
                    "DeployService",
                    DeployServiceInput(spec=ServiceSpec(**body), region="us-central1"),
                    id=f"deploy-{uuid.uuid4().hex[:12]}",
                    task_queue=settings.task_queue,
                    static_summary=f"deploy {body['service_name']}",
                    search_attributes=TypedSearchAttributes(
                        [
                            SearchAttributePair(sa.OPERATION, "deploy"),
                            SearchAttributePair(sa.JOB_PHASE, "queued"),
                            SearchAttributePair(sa.SUBJECT, f"service:{body['service_name']}"),
                        ]
                    ),
                )

            # Warm-up at full concurrency, so both sides are measured with their connections open.
            await run_clients(50, 100, api_start)
            await run_clients(50, 100, bare_start)
            print(
                f"{'clients':>7} | {'bare p50':>9} {'bare p99':>9} {'bare/s':>7} | "
                f"{'api p50':>9} {'api p99':>9} {'api/s':>7} | {'p99 ratio':>9} {'rate ratio':>10}"
            )
            for concurrency in (1, 10, 50):
                total = requests if concurrency > 1 else max(20, requests // 4)
                bare, bare_rate = await run_clients(concurrency, total, bare_start)
                via_api, api_rate = await run_clients(concurrency, total, api_start)
                print(
                    f"{concurrency:>7} | {percentile(bare, 0.5) * 1000:>7.1f}ms "
                    f"{percentile(bare, 0.99) * 1000:>7.1f}ms {bare_rate:>7.1f} | "
                    f"{percentile(via_api, 0.5) * 1000:>7.1f}ms "
                    f"{percentile(via_api, 0.99) * 1000:>7.1f}ms {api_rate:>7.1f} | "
                    f"{percentile(via_api, 0.99) / percentile(bare, 0.99):>9.2f} "
                    f"{api_rate / bare_rate:>10.2f}"
                )

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

            api_times, _ = await run_clients(1, 10, first_page_api)
            bare_times, _ = await run_clients(1, 10, first_page_bare)
            count = (await client.count_workflows()).count
            print(
                f"\nGET /api/v1/jobs?limit=50 over {count} jobs: median "
                f"{statistics.median(api_times) * 1000:.1f}ms vs bare list_workflows "
                f"{statistics.median(bare_times) * 1000:.1f}ms "
                f"(ratio {statistics.median(api_times) / statistics.median(bare_times):.2f})"
            )
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(timeout=20)
        cloud.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=10_000)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.jobs))
