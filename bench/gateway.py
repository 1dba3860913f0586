"""Gateway overhead: GET /api/v1/runners through the gateway (:8080 in `make run`) against the API
directly, in one run, interleaved so both see the same load.

Starts its own dev server, local cloud (its runners "run their job" for 10 minutes), worker, API
and gateway processes in a temp dir, starts a few runners so the listing has rows to join with
Docker, then times sequential GETs both ways and prints p50/p99 and the gateway's added latency
(target: ≤ 2 ms at p50).

    python bench/gateway.py [--requests 300] [--runners 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import free_port, percentile, wait_port  # noqa: E402
from core.settings import Settings  # noqa: E402
from localcloud.testing import LocalCloud  # noqa: E402
from providers.tls import client_context  # noqa: E402
from temporal.launcher import temporal_command  # noqa: E402

ADMIN_KEY = "csk_bench_admin_key"
CODEC_KEY = "YmVuY2gtb25seS1jb2RlYy1rZXktMzItYnl0ZXMhISE="


async def main(requests: int, runners: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-gateway-"))
    temporal_port, api_port, gateway_port = free_port(), free_port(), free_port()
    cloud = LocalCloud.start(work / "localcloud")
    httpx.put(
        f"{cloud.url}/_localcloud/config", json={"runner_job_seconds": 600}, verify=client_context()
    )
    settings = Settings(data_dir=work, temporal_address=f"127.0.0.1:{temporal_port}")
    env = dict(os.environ)
    for field, value in {
        "DATA_DIR": work,
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "TASK_QUEUE": "bench-gateway",
        "ADMIN_API_KEY": ADMIN_KEY,
        "CODEC_KEY": CODEC_KEY,
        "LOCALCLOUD_PORT": cloud.port,
        "API_PORT": api_port,
        "PUBLIC_API_URL": f"http://127.0.0.1:{api_port}",
        "GATEWAY_PORT": gateway_port,
    }.items():
        env[f"CONNESKILLS_{field}"] = str(value)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": ROOT, "env": env}
    procs: list[subprocess.Popen] = []
    try:
        procs.append(
            subprocess.Popen(temporal_command(settings, "127.0.0.1", temporal_port), **quiet)
        )
        wait_port(temporal_port)
        procs.append(subprocess.Popen([sys.executable, "worker.py"], **quiet))
        api_cmd = [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app"]
        api_cmd += ["--port", str(api_port), "--log-level", "warning", "--no-access-log"]
        procs.append(subprocess.Popen(api_cmd, **quiet))
        procs.append(subprocess.Popen([sys.executable, "-m", "gateway"], **quiet))
        wait_port(api_port)
        wait_port(gateway_port)
        headers = {"X-API-Key": ADMIN_KEY}
        async with (
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", headers=headers) as api,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway_port}", headers=headers) as gw,
        ):
            created = await api.post(
                "/api/v1/runners",
                json={"scope": "repo", "scope_name": "conneskills/platform", "count": runners},
                timeout=60,
            )
            created.raise_for_status()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                listed = (await api.get("/api/v1/runners")).json()
                if sum(r["status"] == "running" for r in listed) == runners:
                    break
                await asyncio.sleep(0.5)
            for client in (api, gw):  # warm both paths (connections, caches)
                for _ in range(20):
                    (await client.get("/api/v1/runners")).raise_for_status()
            direct: list[float] = []
            through: list[float] = []
            for _ in range(requests):
                for client, sink in ((api, direct), (gw, through)):
                    started = time.perf_counter()
                    answer = await client.get("/api/v1/runners")
                    sink.append((time.perf_counter() - started) * 1000)
                    answer.raise_for_status()
            rows = len((await gw.get("/api/v1/runners")).json()["data"])
        print(
            f"GET /api/v1/runners, {requests} sequential requests each way, {rows} active runners"
        )
        print(f"{'':10}{'p50 ms':>10}{'p99 ms':>10}")
        for name, values in (("direct", direct), ("gateway", through)):
            print(f"{name:10}{percentile(values, 0.5):10.2f}{percentile(values, 0.99):10.2f}")
        added = percentile(through, 0.5) - percentile(direct, 0.5)
        verdict = "meets" if added <= 2.0 else "misses"
        print(f"gateway adds {added:.2f} ms at p50 ({verdict} the ≤ 2 ms target)")
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        cloud.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--runners", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.runners))
