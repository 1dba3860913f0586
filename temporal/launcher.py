"""`make run`: starts the Temporal dev server, the local cloud, the worker and the API as one supervised group.

Ctrl-C or SIGTERM stops every part, newest first, and waits for each to exit (the dev server must be gone
before its SQLite file can be opened again). A part that dies on its own stops the whole group.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time

from core.local_keys import admin_api_key, codec_key
from core.settings import Settings, get_settings
from store.migrate import upgrade
from temporal import search_attributes
from temporal.binaries import temporal_cli

SQLITE_PRAGMAS = ["--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal"]
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # If the launcher is killed outright, the kernel stops its children too: no orphans.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


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
        "--log-level",
        "warn",
        "--ui-codec-endpoint",
        f"{settings.public_api_url.rstrip('/')}/codec",
        *SQLITE_PRAGMAS,
        *search_attributes.cli_flags(),
    ]


class Group:
    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
        proc = subprocess.Popen(
            command, env=env, start_new_session=True, preexec_fn=_die_with_parent
        )
        self.procs.append((name, proc))
        return proc

    def stop(self) -> None:
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    print(f"{name} did not stop in 20s; killing it", flush=True)
                    proc.kill()
                    proc.wait()

    def watch(self) -> int:
        while True:
            for name, proc in self.procs:
                if proc.poll() is not None:
                    print(
                        f"{name} exited with code {proc.returncode}; stopping the platform",
                        flush=True,
                    )
                    return 1
            time.sleep(0.5)


def main() -> int:
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["CONNESKILLS_ADMIN_API_KEY"] = admin_key = admin_api_key(settings)
    env["CONNESKILLS_CODEC_KEY"] = codec_key(settings)
    upgrade(settings.resolved_database_url)

    host, _, port = settings.temporal_address.rpartition(":")
    group = Group()

    def _stop(signum, _frame) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        temporal = group.start("temporal", temporal_command(settings, host, int(port)), env)
        _wait_port(host, int(port), "temporal", temporal)
        localcloud = group.start(
            "localcloud",
            [
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
            ],
            env,
        )
        _wait_port(settings.localcloud_host, settings.localcloud_port, "localcloud", localcloud)
        group.start("worker", [sys.executable, "worker.py"], env)
        api = group.start(
            "api",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "api.app:create_app",
                "--host",
                settings.api_host,
                "--port",
                str(settings.api_port),
                "--no-access-log",
            ],
            env,
        )
        _wait_port(settings.api_host, settings.api_port, "api", api)
        print(
            "\nConneSkills Platform is running:\n"
            f"  API              {settings.public_api_url}  (docs: {settings.public_api_url}/docs)\n"
            f"  Temporal         {settings.temporal_address}  namespace {settings.temporal_namespace}\n"
            f"  Temporal Web UI  {settings.temporal_ui_url}\n"
            f"  Local cloud      {settings.localcloud_url}\n"
            f"  Worker           task queue {settings.task_queue}\n"
            f"  Data             {settings.data_dir.resolve()}\n"
            f"  Admin API key    {admin_key}\n"
            "Ctrl-C stops everything.\n",
            flush=True,
        )
        return group.watch()
    except KeyboardInterrupt:
        print("stopping…", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        group.stop()


if __name__ == "__main__":
    sys.exit(main())
