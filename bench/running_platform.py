"""A whole platform for a bench, as `make run` runs it but on free ports and a scratch data dir:
the dev server, the local cloud, `worker.py` and the API, each its own process (their output in
`processes.log`), and a Temporal client that decodes as the platform encodes."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.client import Client

from bench.common import free_port, wait_port
from core.settings import Settings
from localcloud.testing import LocalCloud
from temporal.client import data_converter
from temporal.launcher import temporal_command

ROOT = Path(__file__).resolve().parents[1]
ADMIN_KEY = "csk_bench_admin_key"
CODEC_KEY = "YmVuY2gtb25seS1jb2RlYy1rZXktMzItYnl0ZXMhISE="


@dataclass
class BenchPlatform:
    settings: Settings
    cloud: LocalCloud
    client: Client
    api_url: str
    # The process ids of the dev server, the worker and the API (for their CPU, from /proc).
    pids: dict[str, int] = field(default_factory=dict)


@asynccontextmanager
async def bench_platform(name: str, **cloud_options) -> AsyncIterator[BenchPlatform]:
    """`name` names the data dir and the task queue; `cloud_options` go to `LocalCloud.start`."""
    work = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    temporal_port, api_port = free_port(), free_port()
    cloud = LocalCloud.start(work / "localcloud", **cloud_options)
    settings = Settings(
        data_dir=work,
        temporal_address=f"127.0.0.1:{temporal_port}",
        codec_key=CODEC_KEY,
        temporal_ui_port=free_port(),
    )
    env = dict(os.environ)
    for variable, value in {
        "DATA_DIR": work,
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "TASK_QUEUE": f"bench-{name}",
        "ADMIN_API_KEY": ADMIN_KEY,
        "CODEC_KEY": CODEC_KEY,
        "LOCALCLOUD_PORT": cloud.port,
        "API_PORT": api_port,
        "PUBLIC_API_URL": f"http://127.0.0.1:{api_port}",
    }.items():
        env[f"CONNESKILLS_{variable}"] = str(value)
    log_file = open(work / "processes.log", "w")  # noqa: SIM115
    quiet = {"stdout": log_file, "stderr": subprocess.STDOUT, "cwd": ROOT, "env": env}
    procs: list[subprocess.Popen] = []
    try:
        procs.append(
            subprocess.Popen(temporal_command(settings, "127.0.0.1", temporal_port), **quiet)
        )
        wait_port(temporal_port, 90)
        procs.append(subprocess.Popen([sys.executable, "worker.py"], **quiet))
        api_cmd = [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app"]
        api_cmd += ["--port", str(api_port), "--log-level", "warning", "--no-access-log"]
        procs.append(subprocess.Popen(api_cmd, **quiet))
        wait_port(api_port, 90)
        client = await Client.connect(
            settings.temporal_address, data_converter=data_converter(settings)
        )
        pids = dict(zip(("temporal", "worker", "api"), (proc.pid for proc in procs), strict=True))
        yield BenchPlatform(settings, cloud, client, f"http://127.0.0.1:{api_port}", pids)
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        cloud.stop()
        log_file.close()
