"""`make run` supervises: a crashed worker is restarted, SIGINT stops it even when inherited as
ignored, a clean stop is quiet, and the API's access log stays off (issue 7, #17, #20, #7)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from providers.tls import client_context
from temporal import launcher
from tests.helpers.platform import ROOT, free_port


@dataclass
class Launched:
    proc: subprocess.Popen
    api: str
    key: str
    output: Path


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    return [int(p) for p in text.split()]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


def worker_pids(launcher_pid: int) -> list[int]:
    return [p for p in _children(launcher_pid) if "worker.py" in _cmdline(p)]


def _ignore_sigint() -> None:
    # What a script's `cmd &` does: the background job starts with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launched]:
    data = tmp_path_factory.mktemp("launcher-data")
    api_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNESKILLS_")}
    env.update(
        CONNESKILLS_DATA_DIR=str(data),
        CONNESKILLS_TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}",
        CONNESKILLS_TEMPORAL_UI_PORT=str(free_port()),
        CONNESKILLS_API_PORT=str(api_port),
        CONNESKILLS_PUBLIC_API_URL=f"http://127.0.0.1:{api_port}",
        CONNESKILLS_LOCALCLOUD_PORT=str(free_port()),
        CONNESKILLS_LOCALCLOUD_PROXMOX_PORT=str(free_port()),
        CONNESKILLS_LOCALCLOUD_AWS_PORT=str(free_port()),
        CONNESKILLS_GATEWAY_PORT=str(free_port()),
        CONNESKILLS_WORKER_METRICS_PORT=str(free_port()),
        CONNESKILLS_LOCALCLOUD_LRO_DELAY_SECONDS="0.1",
    )
    output = data / "launcher.log"
    with output.open("w") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "temporal.launcher"],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # setsid-style, as from a script in the background
            preexec_fn=_ignore_sigint,
        )
    api = f"http://127.0.0.1:{api_port}"
    deadline = time.monotonic() + 180
    while "Ctrl-C stops everything" not in output.read_text():
        assert proc.poll() is None, output.read_text()
        assert time.monotonic() < deadline, output.read_text()
        time.sleep(0.2)
    key = (data / "admin_api_key").read_text().strip()
    try:
        yield Launched(proc, api, key, output)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _wait_for(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_make_run_serves_the_runners_gateway_in_front_of_the_api(platform: Launched) -> None:
    import re

    printed = re.search(r"Runners gateway\s+(http://\S+)", platform.output.read_text())
    assert printed, platform.output.read_text()
    gateway = httpx.Client(
        verify=client_context(),
        base_url=printed.group(1),
        headers={"X-API-Key": platform.key},
        timeout=10,
    )
    health = gateway.get("/api/v1/health").json()
    assert health["data"]["status"] == "healthy" and health["data"]["orchestrator"] == "healthy"
    listed = gateway.get("/api/v1/runners")
    assert listed.status_code == 200 and listed.json()["status"] == "success"


def test_make_run_serves_the_local_clouds_aws_seeded_with_ec2_instances(platform: Launched) -> None:
    import re

    text = platform.output.read_text()
    local_cloud = re.search(r"Local cloud\s+(http://\S+)", text)
    aws = re.search(r"AWS\s+(http://\S+)", text)
    assert local_cloud and aws, text
    # Seeded in the background at start (moto's first EC2 call takes seconds).
    status = _wait_for(
        lambda: (
            (
                s := httpx.get(
                    f"{local_cloud.group(1)}/_localcloud/aws", verify=client_context()
                ).json()
            )["ready"]
            and s
        ),
        120,
        "the local cloud's AWS",
    )
    assert status["endpoint"] == aws.group(1) and len(status["instances"]) == 3


def test_make_run_prints_every_metrics_url_and_each_serves_prometheus_text(
    platform: Launched,
) -> None:
    import re

    log = platform.output.read_text()
    api = re.search(r"Metrics\s+API (http://\S+)", log)
    gateway = re.search(r"gateway (http://\S+/metrics)", log)
    worker = re.search(r"worker (http://\S+/metrics)", log)
    assert api and gateway and worker, log
    assert (
        "conneskills_audit_queue_depth"
        in httpx.get(api.group(1), timeout=10, verify=client_context()).text
    )
    assert (
        "http_requests_total"
        in httpx.get(gateway.group(1), timeout=10, verify=client_context()).text
    )

    def temporal_metrics() -> str | None:
        text = httpx.get(worker.group(1), timeout=10, verify=client_context()).text
        return text if "temporal_" in text else None

    text = _wait_for(temporal_metrics, 30, "the worker's temporal_ metrics")
    assert re.search(r"^temporal_\w+", text, re.M)


def test_crashed_worker_is_restarted_and_jobs_still_run(platform: Launched) -> None:
    (first,) = _wait_for(lambda: worker_pids(platform.proc.pid), 20, "the worker")
    os.kill(first, signal.SIGKILL)
    http = httpx.Client(
        verify=client_context(),
        base_url=platform.api,
        headers={"X-API-Key": platform.key},
        timeout=10,
    )
    assert http.get("/health").status_code == 200  # the API keeps answering meanwhile
    (second,) = _wait_for(
        lambda: [p for p in worker_pids(platform.proc.pid) if p != first], 20, "a new worker"
    )
    assert second != first and platform.proc.poll() is None
    started = http.post(
        "/api/v1/services/deploy",
        json={"service_name": "ops-crash", "image": "us-docker.pkg.dev/cloudrun/container/hello"},
    )
    assert started.status_code == 202, started.text
    job_id = started.json()["job_id"]
    job = _wait_for(
        lambda: (
            (j := http.get(f"/api/v1/jobs/{job_id}").json())["status"]
            in ("completed", "failed", "cancelled")
            and j
        ),
        40,
        "the deploy job",
    )
    assert job["status"] == "completed", job
    assert "worker exited with code -9; restarting it" in platform.output.read_text()


def test_api_access_log_is_off(platform: Launched) -> None:
    httpx.get(f"{platform.api}/health", timeout=10, verify=client_context())
    assert '"GET /health' not in platform.output.read_text()


def test_sigint_stops_the_group_even_when_inherited_ignored(platform: Launched) -> None:
    children = _children(platform.proc.pid)
    assert children
    before = len(platform.output.read_text().splitlines())
    platform.proc.send_signal(signal.SIGINT)
    assert platform.proc.wait(timeout=40) == 0
    for pid in children:
        assert (
            not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
        )
    tail = platform.output.read_text().splitlines()[before:]
    assert not [line for line in tail if "level=WARN" in line], tail
    assert len(tail) <= 8, tail


def test_repeated_quick_crashes_give_up(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setattr(launcher, "BACKOFF_FIRST_SECONDS", 0.01)
    group = launcher.Group(dict(os.environ))
    group.start("worker", [sys.executable, "-c", "raise SystemExit(3)"], restart=True)
    started = time.monotonic()
    assert group.watch() == 1
    out = capsys.readouterr().out
    assert out.count("restarting it in") == launcher.MAX_QUICK_CRASHES - 1
    assert "crashed 5 times in a row" in out and "giving up" in out
    assert time.monotonic() - started < 20


def test_backoff_doubles_and_a_long_run_resets_it(monkeypatch: pytest.MonkeyPatch) -> None:
    group = launcher.Group({})
    part = launcher.Part("worker", ["true"], restart=True)
    group.parts.append(part)

    class Exited:
        returncode = 1

        def poll(self) -> int:
            return 1

    delays = []
    now = 1000.0
    for _ in range(4):
        part.proc, part.started_at, part.restart_at = Exited(), now, None
        assert group.check(now + 1) is None
        delays.append(part.restart_at - (now + 1))
    assert delays == [1, 2, 4, 8]
    part.proc, part.started_at, part.restart_at = Exited(), now, None
    assert group.check(now + 60) is None  # ran a minute: not a quick crash
    assert part.restart_at - (now + 60) == 1 and part.quick_crashes == 0
