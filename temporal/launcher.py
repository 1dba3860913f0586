"""`make run`: starts the Temporal dev server, the local cloud, the worker and the API as one supervised group.

Supervision: a worker or local cloud that exits is restarted with exponential backoff (1 s, 2 s, 4 s …
capped at 30 s) while the API and the dev server keep running; a crash is what Temporal makes
survivable (the jobs wait in their task queue for the next worker). The launcher gives up, stopping
the group with a message, only when a part crashes 5 times in a row each within 10 s of its start.
The Temporal dev server and the API are not restarted: when either dies the group stops, as every
other part depends on them and a restart would hide why.

Stopping: SIGINT (Ctrl-C) or SIGTERM stops every part and waits for each to exit (the dev server must
be gone before its SQLite file can be opened again). The handlers are installed explicitly, so a
launcher started in the background by a script (which inherits SIGINT ignored) still stops on
SIGINT. The worker goes first, while Temporal is still up to accept its goodbye, then the API, the
local cloud and the dev server; the dev server logs at `error` level, so a clean stop prints a few
lines. Children die with the launcher (PR_SET_PDEATHSIG) if it is killed outright.

Keys: the launcher resolves the generated keys like every other process (core.local_keys) and
prints the admin key and the assistant console's first login (its password only when it was
generated, not when it came from a setting); the children find the same files under the data dir themselves.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

from contracts.task_queues import SYSTEMS
from core.local_keys import LocalKeyError, with_local_keys
from core.settings import SERVER_KEEP_ALIVE_SECONDS, Settings, get_settings
from store.migrate import upgrade
from temporal import search_attributes
from temporal.binaries import temporal_cli
from temporal.metrics import metrics_url

SQLITE_PRAGMAS = ["--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal"]
_PR_SET_PDEATHSIG = 1

BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 30.0
QUICK_CRASH_SECONDS = 10.0
MAX_QUICK_CRASHES = 5
STOP_TIMEOUT_SECONDS = 20.0


def _child_setup() -> None:
    # If the launcher is killed outright, the kernel stops its children too: no orphans.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    # A launcher started from a script in the background inherits SIGINT ignored; its children
    # must not (uvicorn and the worker install their own handlers, the dev server relies on these).
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _wait_port(
    host: str, port: int, name: str, proc: subprocess.Popen, seconds: float = 60
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{name} exited during start-up (code {proc.returncode})")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"{name} did not listen on {host}:{port} within {seconds:.0f}s")


def temporal_command(settings: Settings, host: str, port: int) -> list[str]:
    return [
        temporal_cli(),
        "server",
        "start-dev",
        "--ip",
        host,
        "--port",
        str(port),
        "--ui-port",
        str(settings.temporal_ui_port),
        "--db-filename",
        str(settings.data_dir / "temporal.db"),
        "--namespace",
        settings.temporal_namespace,
        # Its WARN lines are the system workers' lost connections at every stop: noise.
        "--log-level",
        "error",
        "--ui-codec-endpoint",
        f"{settings.public_api_url.rstrip('/')}/codec",
        *SQLITE_PRAGMAS,
        *search_attributes.cli_flags(),
        *search_attributes.CACHED_FLAGS,
    ]


def localcloud_command(settings: Settings) -> list[str]:
    return [
        sys.executable,
        "-m",
        "localcloud",
        "--host",
        settings.localcloud_host,
        "--port",
        str(settings.localcloud_port),
        "--data-dir",
        str(settings.data_dir / "localcloud"),
        "--lro-delay",
        str(settings.localcloud_lro_delay_seconds),
        # Proxmox VE on its TLS port, unless the platform uses a real cluster.
        "--proxmox-port",
        str(settings.localcloud_proxmox_port if settings.proxmox_is_local else 0),
        # AWS (moto's server, seeded with EC2 instances), unless the platform uses AWS itself.
        "--aws-port",
        str(settings.localcloud_aws_port if settings.aws_is_local else 0),
    ]


def api_command(settings: Settings) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "api.app:create_app",
        "--host",
        settings.api_host,
        "--port",
        str(settings.api_port),
        # uvicorn's own start/stop chatter; the app's logs (`api ready`, errors) stay at info.
        "--log-level",
        "warning",
        "--no-access-log",
        "--timeout-keep-alive",
        str(SERVER_KEEP_ALIVE_SECONDS),
        *(["--workers", str(settings.api_workers)] if settings.api_workers > 1 else []),
    ]


@dataclass
class Part:
    name: str
    command: list[str]
    restart: bool
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    quick_crashes: int = 0
    restart_at: float | None = None


class Group:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.parts: list[Part] = []

    def start(self, name: str, command: list[str], *, restart: bool = False) -> subprocess.Popen:
        part = Part(name, command, restart)
        self.parts.append(part)
        return self._spawn(part)

    def _spawn(self, part: Part) -> subprocess.Popen:
        part.proc = subprocess.Popen(
            part.command, env=self.env, start_new_session=True, preexec_fn=_child_setup
        )
        part.started_at = time.monotonic()
        part.restart_at = None
        return part.proc

    def _stop_order(self) -> list[Part]:
        # The worker first, while Temporal still answers; then the rest, newest first.
        newest_first = list(reversed(self.parts))
        return sorted(newest_first, key=lambda part: part.name != "worker")

    def stop(self) -> None:
        for part in self._stop_order():
            proc = part.proc
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                print(
                    f"{part.name} did not stop in {STOP_TIMEOUT_SECONDS:.0f}s; killing it",
                    flush=True,
                )
                proc.kill()
                proc.wait()

    def check(self, now: float) -> str | None:
        """One supervision pass: restarts what is due; returns why the group must stop, if it must."""
        for part in self.parts:
            if part.restart_at is not None:
                if now >= part.restart_at:
                    proc = self._spawn(part)
                    print(f"{part.name} restarted (pid {proc.pid})", flush=True)
                continue
            assert part.proc is not None
            code = part.proc.poll()
            if code is None:
                continue
            if not part.restart:
                return f"{part.name} exited with code {code}; stopping the platform"
            quick = now - part.started_at < QUICK_CRASH_SECONDS
            part.quick_crashes = part.quick_crashes + 1 if quick else 0
            if part.quick_crashes >= MAX_QUICK_CRASHES:
                return (
                    f"{part.name} crashed {part.quick_crashes} times in a row, each within "
                    f"{QUICK_CRASH_SECONDS:.0f}s of starting (last exit code {code}); "
                    "giving up and stopping the platform"
                )
            delay = min(
                BACKOFF_FIRST_SECONDS * 2 ** max(part.quick_crashes - 1, 0), BACKOFF_MAX_SECONDS
            )
            part.restart_at = now + delay
            print(f"{part.name} exited with code {code}; restarting it in {delay:.0f}s", flush=True)
        return None

    def watch(self) -> int:
        while True:
            reason = self.check(time.monotonic())
            if reason:
                print(reason, flush=True)
                return 1
            time.sleep(0.2)


def _metrics_lines(settings: Settings) -> str:
    """Every metrics URL of the group (docs/operating.md#metrics)."""
    api_metrics = f"{settings.public_api_url.rstrip('/')}/metrics"
    gateway_metrics = f"http://{settings.gateway_host}:{settings.gateway_port}/metrics"
    worker_metrics = metrics_url(settings) or "off (CONNESKILLS_WORKER_METRICS_PORT=0)"
    if not settings.metrics_enabled:
        api_metrics = gateway_metrics = "off (CONNESKILLS_METRICS_ENABLED=false)"
    return (
        f"  Metrics          API {api_metrics}\n"
        f"                   gateway {gateway_metrics}\n"
        f"                   worker {worker_metrics}\n"
    )


def _stop(_signum, _frame) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # Explicit: Python installs no SIGINT handler when it starts with SIGINT ignored.
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    settings = get_settings()
    # A password an operator set is theirs to know; only a generated one is printed.
    password_given = settings.assistant_admin_password is not None
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        settings = with_local_keys(settings, admin=True)
    except (OSError, LocalKeyError) as error:
        print(f"make run: cannot start: {error}", file=sys.stderr, flush=True)
        return 2
    # The children read settings and keys themselves; the environment is passed as it is.
    env = dict(os.environ)
    upgrade(settings.resolved_database_url)

    host, _, port = settings.temporal_address.rpartition(":")
    group = Group(env)
    try:
        temporal = group.start("temporal", temporal_command(settings, host, int(port)))
        _wait_port(host, int(port), "temporal", temporal)
        localcloud = group.start("localcloud", localcloud_command(settings), restart=True)
        _wait_port(settings.localcloud_host, settings.localcloud_port, "localcloud", localcloud)
        if settings.proxmox_is_local:
            port = settings.localcloud_proxmox_port
            _wait_port(settings.localcloud_host, port, "localcloud (Proxmox)", localcloud)
        group.start("worker", [sys.executable, "worker.py"], restart=True)
        api = group.start("api", api_command(settings))
        _wait_port(settings.api_host, settings.api_port, "api", api)
        console_password = (
            "(CONNESKILLS_ASSISTANT_ADMIN_PASSWORD)"
            if password_given
            else settings.assistant_admin_password.get_secret_value()
        )
        gateway = group.start("gateway", [sys.executable, "-m", "gateway"], restart=True)
        _wait_port(settings.gateway_host, settings.gateway_port, "gateway", gateway)
        print(
            "\nConneSkills Platform is running:\n"
            f"  API              {settings.public_api_url}  (docs: {settings.public_api_url}/docs)\n"
            f"  Runners gateway  http://{settings.gateway_host}:{settings.gateway_port}  (seed 004)\n"
            f"  Temporal         {settings.temporal_address}  namespace {settings.temporal_namespace}\n"
            f"  Temporal Web UI  {settings.temporal_ui_url}\n"
            f"  Local cloud      {settings.localcloud_url}\n"
            f"  Proxmox VE       https://{settings.resolved_proxmox_endpoint}  "
            f"(CA {settings.resolved_proxmox_ca_bundle or 'system trust store'})\n"
            f"  AWS              {settings.resolved_aws_endpoint_url or 'AWS itself'}  "
            f"region {settings.aws_region}\n"
            f"  Worker           task queues {settings.task_queue}-{{core,{','.join(SYSTEMS)}}}\n"
            f"{_metrics_lines(settings)}"
            f"  Data             {settings.data_dir.resolve()}\n"
            f"  Admin API key    {settings.admin_api_key}\n"
            f"  Assistant login  {settings.assistant_admin_username} / {console_password}  "
            "(POST /api/auth/login, seed 002)\n"
            "Ctrl-C stops everything.\n",
            flush=True,
        )
        return group.watch()
    except KeyboardInterrupt:
        print("stopping…", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        group.stop()
        print("stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
