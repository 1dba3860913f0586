"""CRM ingest cost: POST /api/v1/ingest/{key} on the platform API against a bare FastAPI endpoint
doing no database work (bench/bare_ingest.py), same run, on SQLite and on PostgreSQL.

Each server runs in its own uvicorn process (no access log). For 1, 10 and 50 concurrent clients it
prints requests/s and p50/p99 of both and the ratio (target: ingest ≥ 0.5× bare requests/s at 10
clients), and after every round checks the account's record count: nothing lost.

    python bench/ingest.py [--requests 500] [--postgres postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import free_port, percentile, wait_ready  # noqa: E402

ADMIN_KEY = "csk_bench_admin_key"
CLIENTS = (1, 10, 50)


def serve(target: str, port: int, env: dict[str, str], factory: bool) -> subprocess.Popen:
    command = [sys.executable, "-m", "uvicorn", target, "--port", str(port), "--no-access-log"]
    command += ["--log-level", "warning"] + (["--factory"] if factory else [])
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def load(url: str, concurrency: int, total: int) -> tuple[float, float, float]:
    """requests/s, p50 ms, p99 ms; every answer must be a 200."""
    latencies: list[float] = []
    counter = iter(range(total))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:

        async def client() -> None:
            for i in counter:
                body = {"nombre": f"Lead {i}", "email": f"lead{i}@example.com", "n": i}
                started = time.perf_counter()
                response = await http.post(url, json=body)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise SystemExit(f"{url}: {response.status_code} {response.text[:200]}")

        started = time.perf_counter()
        await asyncio.gather(*[client() for _ in range(concurrency)])
        elapsed = time.perf_counter() - started
    return total / elapsed, percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000


async def bench_backend(name: str, database_url: str, bare_url: str, total: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix=f"bench-crm-{name}-"))
    port = free_port()
    env = dict(os.environ)
    env.update(
        CONNESKILLS_DATA_DIR=str(data_dir),
        CONNESKILLS_DATABASE_URL=database_url,
        CONNESKILLS_ADMIN_API_KEY=ADMIN_KEY,
        CONNESKILLS_TEMPORAL_ADDRESS="127.0.0.1:1",  # lazy client: the ingest needs no Temporal
        CONNESKILLS_CRM_INGEST_RATE_LIMIT="1000000/second",
    )
    api = serve("api.app:create_app", port, env, factory=True)
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(f"{base}/health")
        admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        async with httpx.AsyncClient(base_url=base, headers=admin) as http:
            account = (await http.post("/api/v1/admin/accounts", json={"nombre": "bench"})).json()
            stored = 0
            print(f"\n{name}")
            print(
                f"{'clients':>7} {'ingest/s':>9} {'p50 ms':>7} {'p99 ms':>7} "
                f"{'bare/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'ratio':>6}  rows"
            )
            for clients in CLIENTS:
                ingest = await load(f"{base}/api/v1/ingest/{account['api_key']}", clients, total)
                bare = await load(f"{bare_url}/api/v1/ingest/x", clients, total)
                stored += total
                records = await http.get(f"/api/v1/admin/accounts/{account['id']}/records")
                leads = await http.get(f"/api/v1/admin/accounts/{account['id']}/leads")
                counted = (records.json()["total"], leads.json()["total"])
                ok = "ok" if counted == (stored, stored) else f"LOST: {counted} of {stored}"
                print(
                    f"{clients:>7} {ingest[0]:>9.0f} {ingest[1]:>7.1f} {ingest[2]:>7.1f} "
                    f"{bare[0]:>8.0f} {bare[1]:>7.1f} {bare[2]:>7.1f} "
                    f"{ingest[0] / bare[0]:>6.2f}  {ok}"
                )
    finally:
        api.terminate()
        api.wait(10)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    args = parser.parse_args()
    bare_port = free_port()
    bare = serve("bench.bare_ingest:app", bare_port, dict(os.environ), factory=False)
    bare_url = f"http://127.0.0.1:{bare_port}"
    pg_name = f"bench_crm_{uuid.uuid4().hex[:8]}"
    try:
        await wait_ready(f"{bare_url}/docs")
        sqlite_dir = Path(tempfile.mkdtemp(prefix="bench-crm-db-"))
        await bench_backend(
            "SQLite", f"sqlite+aiosqlite:///{sqlite_dir / 'platform.db'}", bare_url, args.requests
        )
        admin = await asyncpg.connect(args.postgres)
        await admin.execute(f'CREATE DATABASE "{pg_name}"')
        await admin.close()
        parts = urlsplit(args.postgres)
        pg_url = urlunsplit(parts._replace(scheme="postgresql+asyncpg", path=f"/{pg_name}"))
        try:
            await bench_backend("PostgreSQL", pg_url, bare_url, args.requests)
        finally:
            admin = await asyncpg.connect(args.postgres)
            await admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
            await admin.close()
    finally:
        bare.terminate()
        bare.wait(10)


if __name__ == "__main__":
    asyncio.run(main())
