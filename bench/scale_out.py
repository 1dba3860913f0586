"""Scale-out: job starts per second with one API process against two, on one dev server, same run.

Starts its own dev server (SQLite file with the `make run` pragmas), local cloud and two API
processes (the launcher's `api_command`, each its own OS process and port, as two replicas behind a
load balancer would run) on one database: a scratch PostgreSQL database by default (what several
processes share in production; `--sqlite` for the default SQLite file), with `--redis-url` if
given. The load is `POST /api/v1/services/deploy` (no worker polls the task queue: the start alone
is measured, as bench/job_start.py does) from 50 concurrent clients: in a one-process round all of
them call the first API; in a two-process round each client alternates between the two. Rounds
interleave (`--rounds`, each pair in the other order), since every start leaves a workflow behind
and the dev server slows as a run goes on. Prints each round's starts/s, the two/one ratio, and one
line: "met" when the median ratio is at least 0.95 (the goal: adding a process never lowers
throughput; what it raises depends on the cores left to it beside the dev server and the database).

    python bench/scale_out.py [--requests 300] [--rounds 3] [--clients 50] [--sqlite]
                              [--postgres URL] [--redis-url URL]

TODO(worker scale-out): once `worker.py --systems` exists (another change adds it), also measure
job completions per second with one worker process against two on the same dev server: start N
cheap jobs (a deploy to the local cloud with a short LRO delay) and time until all complete, with
one `worker.py` and then two. Without it, both workers would poll one task queue for every system,
which is what `make run` already does with one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import free_port, wait_http, wait_port  # noqa: E402
from bench.job_start import ADMIN_KEY, _load_client, run_clients, spec_body  # noqa: E402
from core.settings import Settings  # noqa: E402
from localcloud.testing import LocalCloud  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from temporal.launcher import api_command, temporal_command  # noqa: E402

CODEC_KEY = "YmVuY2gtb25seS1jb2RlYy1rZXktMzItYnl0ZXMhISE="
# Two processes must not lower throughput; below this ratio (noise allowed for) they did.
TARGET = 0.95


async def _scratch_postgres(url: str) -> tuple[str, str]:
    """A new database on that server: its SQLAlchemy URL and its name (dropped at the end)."""
    import asyncpg

    name = f"bench_scale_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql+asyncpg", path=f"/{name}")), name


async def _drop_postgres(url: str, name: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(url)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


async def main(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    temporal_port, ui_port = free_port(), free_port()
    scratch: str | None = None
    if args.sqlite:
        database_url = f"sqlite+aiosqlite:///{work / 'platform.db'}"
    else:
        database_url, scratch = await _scratch_postgres(args.postgres)
    await asyncio.to_thread(upgrade, database_url)
    settings = Settings(
        data_dir=work,
        temporal_address=f"127.0.0.1:{temporal_port}",
        temporal_ui_port=ui_port,
        task_queue="bench-no-worker",
        admin_api_key=ADMIN_KEY,
        codec_key=CODEC_KEY,
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
        urls = []
        for name in ("a", "b"):
            port = free_port()
            (work / name).mkdir()
            env = {k: v for k, v in os.environ.items() if not k.startswith("CONNESKILLS_")}
            values = {
                "DATA_DIR": work / name,
                "TEMPORAL_ADDRESS": settings.temporal_address,
                "TASK_QUEUE": settings.task_queue,
                "ADMIN_API_KEY": ADMIN_KEY,
                "CODEC_KEY": CODEC_KEY,
                "DATABASE_URL": database_url,
                "MIGRATE_ON_START": "false",
                "CLOUD_RUN_ENDPOINT": cloud.url,
                "LOGGING_ENDPOINT": cloud.url,
                "SECRET_MANAGER_ENDPOINT": cloud.url,
                "IAM_ENDPOINT": cloud.url,
                **({"REDIS_URL": args.redis_url} if args.redis_url else {}),
            }
            env.update({f"CONNESKILLS_{k}": str(v) for k, v in values.items()})
            procs.append(
                subprocess.Popen(
                    api_command(settings.model_copy(update={"api_port": port})),
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=(work / f"api-{name}.log").open("wb"),
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            wait_http(f"{url}/health")
        database = "SQLite file" if args.sqlite else "PostgreSQL"
        config = (
            f"dev server: SQLite file with the make run pragmas; database: {database}; "
            f"{os.cpu_count()} cores; {args.clients} clients; {args.requests} starts per round"
        )
        print(config + "\n")
        clients = [
            _load_client("lean", base_url=url, headers={"X-API-Key": ADMIN_KEY}, timeout=60)
            for url in urls
        ]
        try:
            turn = iter(range(10**9))

            async def start_on(http) -> None:
                response = await http.post("/api/v1/services/deploy", json=spec_body())
                assert response.status_code == 202, response.text

            async def one_process() -> None:
                await start_on(clients[0])

            async def two_processes() -> None:
                await start_on(clients[next(turn) % 2])

            # Warm-up of both processes, so each is measured with its connections and caches warm.
            await run_clients(args.clients, args.clients * 2, two_processes)
            print(f"{'round':>5} | {'1 process/s':>11} {'2 processes/s':>13} {'ratio':>6}")
            ratios = []
            for round_no in range(args.rounds):
                sides = [("one", one_process), ("two", two_processes)]
                if round_no % 2:
                    sides.reverse()
                rates = {}
                for name, start in sides:
                    _, rates[name] = await run_clients(args.clients, args.requests, start)
                ratios.append(rates["two"] / rates["one"])
                print(
                    f"{round_no + 1:>5} | {rates['one']:>11.1f} {rates['two']:>13.1f} "
                    f"{ratios[-1]:>6.2f}"
                )
        finally:
            for http in clients:
                await http.aclose()
        ratio = statistics.median(ratios)
        verdict = "met" if ratio >= TARGET else "not met"
        print(f"\nsummary ({config}):")
        print(
            f"  job starts/s, two API processes >= {TARGET}x one (median of {args.rounds} "
            f"rounds): {ratio:.2f}x, {verdict}"
        )
        print("  job completions/s, one worker against two: not measured (see the TODO above)")
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        cloud.stop()
        if scratch is not None:
            await _drop_postgres(args.postgres, scratch)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="starts per side per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--sqlite", action="store_true", help="the SQLite file, not PostgreSQL")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="a PostgreSQL server to make a scratch database on",
    )
    parser.add_argument("--redis-url", help="CONNESKILLS_REDIS_URL for both API processes")
    asyncio.run(main(parser.parse_args()))
