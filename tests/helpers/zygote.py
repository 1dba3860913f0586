"""Worker processes forked from one that has already imported the platform.

Importing the worker (the Temporal SDK, the Google clients, the OpenAI SDK, every system's
activities) costs ~3.5 s of CPU, and the suite starts a fresh worker process some sixty times (each
SIGKILL case of the fault harness, the worker-kill tests): minutes of CPU on a two-core machine that
is already its bottleneck. A zygote imports it all once per test process, then forks a child per
worker start; the child is an ordinary OS process with its own pid, environment, arguments and
output, which runs `worker.py` (or the harness's worker module) as `__main__` and is killed by
signal like any other. Nothing Temporal-side exists before the fork: the SDK's runtime, its
threads and every connection are made in the child.

It also works out the SDK's default worker build id before it forks: a `Worker` hashes the
bytecode of every loaded module for it, once per process (~3 000 modules: 0.3 s of CPU where their
`.pyc` files exist, ~4.5 s where each is compiled from source again, as under
`PYTHONDONTWRITEBYTECODE=1` with none on disk), and a child inherits the memoized value as it
inherits the imports. The id only names the worker's code to the server (the platform's workers
use no versioning), and every child of one zygote runs the same code.

Protocol, one JSON line each way: the test process writes
`{"entry": [...], "args": [...], "env": {...}, "log": path|null}` and reads `{"pid": n}`. The zygote
reaps its children and writes each one's exit status to `<status dir>/<pid>`."""

from __future__ import annotations

import contextlib
import gc
import json
import os
import runpy
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What the children run: imported here once, so a child's imports are all cache hits. httpx loads
# its transport (httpcore) and anyio's asyncio backend on a client's first use: preloaded too.
PRELOAD = ("worker", "tests.harness.worker_main", "httpcore", "anyio._backends._asyncio")


class ForkedProcess:
    """The parts of `subprocess.Popen` the tests use, for a child of the zygote."""

    def __init__(self, pid: int, status_dir: Path) -> None:
        self.pid = pid
        self._status = status_dir / str(pid)
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and self._status.exists():
            text = self._status.read_text()
            if text:
                self.returncode = int(text)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout)
            time.sleep(0.02)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class Zygote:
    """The test process's side: starts the zygote on first use, asks it for children."""

    def __init__(self) -> None:
        self._status_dir = Path(tempfile.mkdtemp(prefix="zygote-"))
        self._lock = threading.Lock()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.helpers.zygote", str(self._status_dir)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def spawn(
        self, entry: tuple[str, ...], args: tuple[str, ...], env: dict[str, str], log: str | None
    ) -> ForkedProcess:
        request = {"entry": list(entry), "args": list(args), "env": env, "log": log}
        with self._lock:
            assert self._proc.stdin is not None and self._proc.stdout is not None
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
            answer = self._proc.stdout.readline()
        if not answer:
            raise RuntimeError("the worker zygote went away")
        return ForkedProcess(json.loads(answer)["pid"], self._status_dir)

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()


_zygote: Zygote | None = None


def zygote() -> Zygote:
    """This test process's zygote (one, made on first use, gone with the process)."""
    global _zygote
    if _zygote is None or _zygote._proc.poll() is not None:
        _zygote = Zygote()
    return _zygote


# --- the zygote process ---


def _run_child(request: dict) -> None:
    """In the forked child: become the requested worker process, never return."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setpgid(0, 0)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        out = (
            os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            if request["log"]
            else null
        )
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.environ.clear()
        os.environ.update(request["env"])
        entry, args = request["entry"], request["args"]
        if entry[0] == "-m":
            sys.argv = [entry[1], *args]
            runpy.run_module(entry[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv = [entry[0], *args]
            runpy.run_path(str(ROOT / entry[0]), run_name="__main__")
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:  # noqa: BLE001 — the child reports and exits whatever happened
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _serve(status_dir: Path) -> None:
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    # Memoized by the SDK: the children's Workers read it instead of hashing every module again.
    from temporalio.worker._worker import load_default_build_id

    load_default_build_id()
    # Likewise the TLS context every HTTPS client of a process shares (providers/tls.py): its CA
    # bundle, ~40 ms of CPU to load, loaded once here rather than in each child.
    from providers.tls import client_context

    client_context()
    # What the zygote loaded lives as long as its children: out of the collector's sight, a child's
    # collections neither walk it nor write to its pages, which the fork shares until written (the
    # worker processes' CPU about 7 % less on a job-heavy slice of the suite, docs/testing.md).
    gc.freeze()

    def reap(*_: object) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            (status_dir / str(pid)).write_text(str(os.waitstatus_to_exitcode(status)))

    signal.signal(signal.SIGCHLD, reap)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _run_child(request)
        sys.stdout.write(json.dumps({"pid": pid}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    _serve(Path(sys.argv[1]))
