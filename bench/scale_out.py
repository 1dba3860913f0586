"""Scale-out: job starts/s with one API process against two, and job completions/s with one worker
process against two, on one dev server, in the same run.

Starts its own dev server (SQLite file with the `make run` pragmas) and local cloud, and platform
processes the way replicas run (each its own OS process and port, the launcher's `api_command`, the
real `worker.py`) on one database: a scratch PostgreSQL database by default (what several processes
share in production; `--sqlite` for the default SQLite file), with `--redis-url` if given. The load
average is printed with the configuration and with every round: the machines this runs on are
shared, and only ratios within one run compare.

**API processes** (`--part api`). The load is `POST /api/v1/services/deploy` from `--clients` (50)
concurrent clients, with no worker polling that task queue (the start alone is measured, as
bench/job_start.py does): in a one-process round all of them call the first API; in a two-process
round each client alternates between two. Target: the median two/one ratio is at least 0.95
(adding a process never lowers throughput).

**Worker processes** (`--part workers`). Two sets of workers on their own task queue prefixes, both
running throughout: one `worker.py` serving every system (prefix `bench-one-worker`), and
`worker.py --systems provisioning` beside `worker.py --systems runners,oversight,hosting` (prefix
`bench-two-workers`); each set has its own API process (an API starts jobs on its own prefix's
queues). A round gives each set the same batch of `--jobs` jobs, half of each system: deploys to the
local cloud (`--lro-delay`) and ephemeral runners on one repository of the local cloud's GitHub
(`--runner-seconds` of "job" each, `count` 5 per request). A batch's rate is its jobs over the time
from its first start request to its last job's end (`handle.result()`); a job that fails is counted
and printed, never as a completion. Each round runs the batch on both sets, in the other order every
other round; the figure is the median of the rounds' two/one ratios. What the ratio says depends on
whether the batch saturates one process: the median job time of each side is printed beside it.

Rounds interleave (`--rounds`), since every job leaves a workflow behind and the dev server slows as
a run goes on. docs/benchmarks.md explains how to read the figures.

    python bench/scale_out.py [--part both|api|workers] [--rounds 3] [--requests 300]
                              [--clients 50] [--jobs 60] [--lro-delay 0.2] [--runner-seconds 1]
                              [--sqlite] [--postgres URL] [--redis-url URL]
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
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import free_port, wait_http, wait_port  # noqa: E402
from bench.job_start import ADMIN_KEY, _load_client, run_clients, spec_body  # noqa: E402
from core.settings import Settings  # noqa: E402
from localcloud.testing import LocalCloud  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from temporal.client import connect  # noqa: E402
from temporal.launcher import api_command, temporal_command  # noqa: E402

CODEC_KEY = "YmVuY2gtb25seS1jb2RlYy1rZXktMzItYnl0ZXMhISE="
# Two processes must not lower throughput; below this ratio (noise allowed for) they did.
TARGET = 0.95
NO_WORKER = "bench-no-worker"
ONE_WORKER = "bench-one-worker"
TWO_WORKERS = "bench-two-workers"
# The two worker processes of the two-worker side: the provisioning system, and the rest.
SPLIT = ("provisioning", "runners,oversight,hosting")
RUNNERS_PER_REQUEST = 5
REPO = "conneskills/bench-scale-out"


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


def load() -> str:
    return "{:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


class Platform:
    """The processes of one run: each API and worker gets the same settings but its data dir and
    task queue prefix; stopped newest first."""

    def __init__(self, work: Path, settings: Settings, database_url: str, cloud, args) -> None:
        self.work, self.settings, self.cloud = work, settings, cloud
        host, _, port = cloud.url.removeprefix("http://").partition(":")
        self.values = {
            "TEMPORAL_ADDRESS": settings.temporal_address,
            "ADMIN_API_KEY": ADMIN_KEY,
            "CODEC_KEY": CODEC_KEY,
            "DATABASE_URL": database_url,
            "MIGRATE_ON_START": "false",
            "LOCALCLOUD_HOST": host,
            "LOCALCLOUD_PORT": port,
            "CLOUD_RUN_ENDPOINT": cloud.url,
            "LOGGING_ENDPOINT": cloud.url,
            "SECRET_MANAGER_ENDPOINT": cloud.url,
            "IAM_ENDPOINT": cloud.url,
            # Nothing but the batches: the Schedules' runs would land in one side's round only.
            "JOB_REAPER_INTERVAL_MINUTES": "1440",
            "RUNNER_CLEANUP_INTERVAL_MINUTES": "1440",
            "RUNNER_POLL_SECONDS": "0.5",
            # Every queue is fresh: no legacy queue, and workers stop at once at the end.
            "WORKER_SERVE_LEGACY_QUEUE": "false",
            "WORKER_GRACEFUL_SHUTDOWN_SECONDS": "0",
            **({"REDIS_URL": args.redis_url} if args.redis_url else {}),
        }
        self.procs: list[subprocess.Popen] = []

    def _env(self, name: str, task_queue: str) -> dict[str, str]:
        (self.work / name).mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONNESKILLS_")}
        values = {**self.values, "DATA_DIR": self.work / name, "TASK_QUEUE": task_queue}
        env.update({f"CONNESKILLS_{k}": str(v) for k, v in values.items()})
        return env

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        log = (self.work / f"{name}.log").open("wb")
        self.procs.append(
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        )

    def api(self, name: str, task_queue: str) -> str:
        port = free_port()
        command = api_command(self.settings.model_copy(update={"api_port": port}))
        self._spawn(f"api-{name}", command, self._env(f"api-{name}", task_queue))
        return f"http://127.0.0.1:{port}"

    def worker(self, name: str, task_queue: str, systems: str | None) -> None:
        command = [sys.executable, "worker.py", *(["--systems", systems] if systems else [])]
        self._spawn(f"worker-{name}", command, self._env(f"worker-{name}", task_queue))

    def check(self) -> None:
        for proc in self.procs:
            if proc.poll() is not None:
                raise SystemExit(f"{proc.args} exited ({proc.returncode}): see {self.work}")

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


async def api_part(urls: list[str], args) -> float:
    """Job starts/s on one API process against two: the median ratio of the rounds."""
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
        print("API processes: job starts/s")
        print(f"{'round':>5} | {'1 process/s':>11} {'2 processes/s':>13} {'ratio':>6} | load")
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
                f"{ratios[-1]:>6.2f} | {load()}"
            )
        return statistics.median(ratios)
    finally:
        for http in clients:
            await http.aclose()


class Batch:
    """One round's jobs on one side: half deploys, half runners, started through that side's API
    (at most 10 requests in flight) and awaited on Temporal."""

    def __init__(self, http: httpx.AsyncClient, temporal, jobs: int) -> None:
        self.http, self.temporal = http, temporal
        self.deploys = jobs // 2
        self.runner_requests = max(1, (jobs - self.deploys) // RUNNERS_PER_REQUEST)
        self.jobs = self.deploys + self.runner_requests * RUNNERS_PER_REQUEST
        self.failed: list[str] = []
        self.durations: list[float] = []

    async def _wait(self, job_id: str, started: float) -> None:
        try:
            await self.temporal.get_workflow_handle(job_id).result()
        except Exception as error:  # a failed job is reported, never counted as a completion
            self.failed.append(f"{job_id}: {type(error).__name__}: {error}")
        else:
            self.durations.append(time.perf_counter() - started)

    async def run(self, seconds: float) -> float:
        """Completions/s: the batch's jobs over the time from its first start to its last end."""
        gate = asyncio.Semaphore(10)
        waits: list[asyncio.Task] = []

        async def start(path: str, body: dict, ids) -> None:
            async with gate:
                began = time.perf_counter()
                answer = await self.http.post(path, json=body)
            assert answer.status_code == 202, answer.text
            for job_id in ids(answer.json()):
                waits.append(asyncio.create_task(self._wait(job_id, began)))

        runner = {"scope": "repo", "scope_name": REPO, "count": RUNNERS_PER_REQUEST}
        began = time.perf_counter()
        await asyncio.gather(
            *(
                start("/api/v1/services/deploy", spec_body(), lambda a: [a["job_id"]])
                for _ in range(self.deploys)
            ),
            *(
                start("/api/v1/runners", runner, lambda a: [r["runner_id"] for r in a["runners"]])
                for _ in range(self.runner_requests)
            ),
        )
        await asyncio.wait_for(asyncio.gather(*waits), seconds)
        return len(self.durations) / (time.perf_counter() - began)


async def workers_part(platform: Platform, urls: dict[str, str], args) -> tuple[float, int]:
    """Job completions/s with one worker process against two: the median ratio of the rounds, and
    how many jobs failed."""
    cloud = platform.cloud.url
    owner, _, repo = REPO.partition("/")
    async with httpx.AsyncClient(base_url=cloud, timeout=10) as http:
        answer = await http.put(
            "/_localcloud/config",
            json={"lro_delay_seconds": args.lro_delay, "runner_job_seconds": args.runner_seconds},
        )
        assert answer.status_code == 200, answer.text
        answer = await http.post(
            f"/github/orgs/{owner}/repos",
            json={"name": repo},
            headers={"Authorization": "token test-token"},
        )
        assert answer.status_code == 201, answer.text
    platform.worker("all", ONE_WORKER, None)
    for systems in SPLIT:
        platform.worker(systems.split(",")[0], TWO_WORKERS, systems)
    temporal = await connect(platform.settings)
    clients = {
        side: _load_client("lean", base_url=url, headers={"X-API-Key": ADMIN_KEY}, timeout=60)
        for side, url in urls.items()
    }
    failed = 0
    try:
        # Warm-up: each side's workers are up and serving every queue of the workload.
        for side in ("one", "two"):
            batch = Batch(clients[side], temporal, min(args.jobs, 20))
            await batch.run(seconds=240)
            platform.check()
        print(
            f"\nworker processes: job completions/s ({args.jobs} jobs a batch: deploys with a "
            f"{args.lro_delay} s operation delay, runners of {args.runner_seconds} s)"
        )
        print(
            f"{'round':>5} | {'1 worker/s':>10} {'2 workers/s':>11} {'ratio':>6} | "
            f"{'p50 job s (1, 2)':>16} | load"
        )
        ratios = []
        for round_no in range(args.rounds):
            sides = ["one", "two"] if round_no % 2 == 0 else ["two", "one"]
            rates, p50 = {}, {}
            for side in sides:
                batch = Batch(clients[side], temporal, args.jobs)
                rates[side] = await batch.run(seconds=600)
                p50[side] = statistics.median(batch.durations) if batch.durations else 0.0
                failed += len(batch.failed)
                for line in batch.failed[:3]:
                    print(f"      failed ({side}): {line[:200]}")
            ratios.append(rates["two"] / rates["one"])
            print(
                f"{round_no + 1:>5} | {rates['one']:>10.1f} {rates['two']:>11.1f} "
                f"{ratios[-1]:>6.2f} | {p50['one']:>7.1f} {p50['two']:>8.1f} | {load()}"
            )
        return statistics.median(ratios), failed
    finally:
        for http in clients.values():
            await http.aclose()


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
        task_queue=NO_WORKER,
        admin_api_key=ADMIN_KEY,
        codec_key=CODEC_KEY,
    )
    dev_server: subprocess.Popen | None = None
    cloud = LocalCloud.start(work / "localcloud", lro_delay=args.lro_delay)
    platform = Platform(work, settings, database_url, cloud, args)
    try:
        dev_server = subprocess.Popen(
            temporal_command(settings, "127.0.0.1", temporal_port),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(temporal_port)
        api_urls = [platform.api(name, NO_WORKER) for name in ("a", "b")] if args.api else []
        worker_urls = (
            {"one": platform.api("one-worker", ONE_WORKER), "two": platform.api("two", TWO_WORKERS)}
            if args.workers
            else {}
        )
        for url in [*api_urls, *worker_urls.values()]:
            # Generous: on a busy machine four APIs starting at once take a while.
            wait_http(f"{url}/health", seconds=300)
        database = "SQLite file" if args.sqlite else "PostgreSQL"
        config = (
            f"dev server: SQLite file with the make run pragmas; database: {database}; "
            f"{os.cpu_count()} cores; {args.rounds} rounds"
        )
        print(f"{config}; load average at the start {load()}\n")
        lines = []
        if args.api:
            ratio = await api_part(api_urls, args)
            verdict = "met" if ratio >= TARGET else "not met"
            lines.append(
                f"  job starts/s, two API processes >= {TARGET}x one ({args.clients} clients, "
                f"{args.requests} starts a side a round; median of {args.rounds} rounds): "
                f"{ratio:.2f}x, {verdict}"
            )
        if args.workers:
            ratio, failed = await workers_part(platform, worker_urls, args)
            verdict = "met" if ratio >= TARGET and not failed else "not met"
            lines.append(
                f"  job completions/s, two worker processes (--systems {SPLIT[0]} | {SPLIT[1]}) "
                f">= {TARGET}x one serving all ({args.jobs} jobs a batch; median of "
                f"{args.rounds} rounds): {ratio:.2f}x, {verdict}"
                + (f" ({failed} jobs failed)" if failed else "")
            )
        print(f"\nsummary ({config}; load average at the end {load()}):")
        print("\n".join(lines))
    finally:
        platform.stop()
        if dev_server is not None:
            dev_server.terminate()
            try:
                dev_server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                dev_server.kill()
        cloud.stop()
        if scratch is not None:
            await _drop_postgres(args.postgres, scratch)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("both", "api", "workers"), default="both")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=300, help="starts per side per round")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=60, help="jobs per side per round")
    parser.add_argument(
        "--lro-delay", type=float, default=0.2, help="seconds a local cloud operation takes"
    )
    parser.add_argument(
        "--runner-seconds", type=float, default=1.0, help="seconds each runner's one job takes"
    )
    parser.add_argument("--sqlite", action="store_true", help="the SQLite file, not PostgreSQL")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
        help="a PostgreSQL server to make a scratch database on",
    )
    parser.add_argument("--redis-url", help="CONNESKILLS_REDIS_URL for every platform process")
    arguments = parser.parse_args()
    arguments.api = arguments.part in ("both", "api")
    arguments.workers = arguments.part in ("both", "workers")
    asyncio.run(main(arguments))
