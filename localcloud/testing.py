"""Run the local cloud as a subprocess from tests and scripts, and drive its control plane."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

import httpx

from localcloud import tls

_PROJECT_ROOT = Path(__file__).resolve().parents[1]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class LocalCloud:
    """One `python -m localcloud` process; usage:

    cloud = LocalCloud.start(tmp_path / "localcloud", lro_delay=0.2)
    fault = cloud.inject_fault(fail_next=2, code=503, path_contains="serviceId=my-job-name")
    ...
    assert cloud.fired(fault) == 2
    cloud.stop()
    """

    def __init__(
        self,
        process: subprocess.Popen,
        host: str,
        port: int,
        data_dir: Path,
        proxmox_port: int | None = None,
        aws_port: int | None = None,
    ) -> None:
        self.process = process
        self.host = host
        self.port = port
        self.data_dir = data_dir
        # Proxmox VE's TLS port, and the CA file that its certificate is signed by.
        self.proxmox_port = proxmox_port
        # AWS (moto's server), started and seeded in the background: `aws_instances()` waits.
        self.aws_port = aws_port
        # Plain HTTP: without verify=False httpx loads the whole CA bundle (~40 ms of CPU) for
        # a TLS context this client never uses.
        self._http = httpx.Client(base_url=self.url, timeout=10.0, verify=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def proxmox_endpoint(self) -> str:
        """`host:port` of Proxmox VE (what `proxmox_endpoint` and proxmoxer take)."""
        return f"{self.host}:{self.proxmox_port}"

    @property
    def aws_endpoint(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    def aws_instances(self, timeout: float = 120.0) -> list[str]:
        """The EC2 instance ids the local cloud's AWS was seeded with, once it is ready."""
        deadline = time.monotonic() + timeout
        while True:
            status = self._http.get("/_localcloud/aws").json()
            if status["ready"]:
                return status["instances"]
            if status["error"] or time.monotonic() > deadline:
                raise RuntimeError(f"the local cloud's AWS is not ready: {status}")
            time.sleep(0.2)

    @property
    def ca_file(self) -> Path:
        return tls.ca_path(self.data_dir)

    @classmethod
    def start(
        cls,
        data_dir: Path,
        port: int | None = None,
        lro_delay: float = 0.2,
        host: str = "127.0.0.1",
        build_seconds: float = 1.0,
        proxmox_task_seconds: float = 0.3,
        # Generous: the parallel suite starts one per test process at once on two cores.
        timeout: float = 120.0,
    ) -> LocalCloud:
        data_dir = Path(data_dir).resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        port = port or free_port(host)
        proxmox_port = free_port(host)
        aws_port = free_port(host)
        command = [
            sys.executable,
            "-m",
            "localcloud",
            "--host",
            host,
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            "--lro-delay",
            str(lro_delay),
            "--build-seconds",
            str(build_seconds),
            "--proxmox-port",
            str(proxmox_port),
            "--proxmox-task-seconds",
            str(proxmox_task_seconds),
            "--aws-port",
            str(aws_port),
            # Started by the first `aws_instances()`: most sessions never use AWS.
            "--aws-lazy",
        ]
        log = (data_dir / "localcloud.log").open("ab")
        process = subprocess.Popen(command, cwd=_PROJECT_ROOT, stdout=log, stderr=log)
        log.close()
        cloud = cls(process, host, port, data_dir, proxmox_port, aws_port)
        cloud._wait_healthy(timeout)
        return cloud

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"localcloud exited with {self.process.returncode}; "
                    f"see {self.data_dir / 'localcloud.log'}"
                )
            try:
                if self._http.get("/_localcloud/health", timeout=1.0).status_code == 200 and (
                    self._listening(self.proxmox_port)
                ):
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"localcloud did not answer on {self.url} within {timeout}s")

    def _listening(self, port: int | None) -> bool:
        if not port:
            return True
        try:
            with socket.create_connection((self.host, port), timeout=1.0):
                return True
        except OSError:
            return False

    def delay_next(self, method: str, path_contains: str, latency_ms: int) -> dict[str, Any]:
        """The next matching request is answered as usual, `latency_ms` late (a slow operation:
        a job held that long at that call)."""
        return self.inject_fault(
            fail_next=1,
            code=None,
            method=method,
            path_contains=path_contains,
            latency_ms=latency_ms,
        )

    def inject_fault(
        self,
        fail_next: int = 1,
        code: int | str | None = 503,
        method: str | None = None,
        path_contains: str | None = None,
        latency_ms: int = 0,
        operation_error: dict[str, Any] | None = None,
        message: str | None = None,
        body_contains: str | None = None,
    ) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "fail_next": fail_next,
            "code": code,
            "method": method,
            "path_contains": path_contains,
            "latency_ms": latency_ms,
        }
        if operation_error is not None:
            spec["operation_error"] = operation_error
        if message is not None:
            spec["message"] = message
        if body_contains is not None:
            spec["body_contains"] = body_contains
        return self._call("POST", "/_localcloud/faults", spec)

    def fired(self, fault: dict[str, Any]) -> int:
        """How many requests (or new operations) a fault `inject_fault` answered has hit so far,
        whether it is still active, used up or cleared."""
        return self._call("GET", f"/_localcloud/faults/{fault['id']}")["fired"]

    def faults(self) -> list[dict[str, Any]]:
        return self._call("GET", "/_localcloud/faults")["faults"]

    def request_count(self, method: str | None = None, path_contains: str | None = None) -> int:
        query = urllib.parse.urlencode(
            {k: v for k, v in {"method": method, "path_contains": path_contains}.items() if v}
        )
        return self._call("GET", f"/_localcloud/requests?{query}")["count"]

    def clear_faults(self) -> None:
        self._call("DELETE", "/_localcloud/faults")

    def set_lro_delay(self, seconds: float) -> None:
        self._call("PUT", "/_localcloud/config", {"lro_delay_seconds": seconds})

    def set_proxmox_task_seconds(self, seconds: float) -> None:
        self._call("PUT", "/_localcloud/config", {"proxmox_task_seconds": seconds})

    def set_build_seconds(self, seconds: float) -> None:
        self._call("PUT", "/_localcloud/config", {"build_seconds": seconds})

    def create_git_repo(
        self, owner: str, name: str, files: dict[str, str], branch: str = "main"
    ) -> dict[str, Any]:
        """A repository in the local git hosting whose `branch` holds `files` in one commit."""
        body = {"owner": owner, "name": name, "files": files, "branch": branch}
        return self._call("POST", "/_localcloud/git/repositories", body)

    def git_commits(self, owner: str, name: str, branch: str = "main") -> list[dict[str, str]]:
        """The branch's commits, newest first: `sha`, `subject`, `body`."""
        path = f"/_localcloud/git/repositories/{owner}/{name}/commits"
        return self._http.get(path, params={"branch": branch}).raise_for_status().json()["commits"]

    def config(self) -> dict[str, Any]:
        return self._call("GET", "/_localcloud/config")

    def reset(self) -> None:
        self._call("POST", "/_localcloud/reset")

    def stop(self, timeout: float = 10.0) -> None:
        self._http.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        response = self._http.request(method, path, json=body)
        response.raise_for_status()
        return response.json()

    def __enter__(self) -> LocalCloud:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
