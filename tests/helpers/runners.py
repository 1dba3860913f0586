"""Set-up for the runners tests: a repository of the test's own in the local cloud's GitHub, and
what Docker and GitHub hold for it, read through the same clients the platform uses."""

from __future__ import annotations

import asyncio
import time

import docker
import httpx

from contracts.runners.runners import JOB_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE
from providers.tls import client_context
from tests.helpers.platform import unique_name

GITHUB_HEADERS = {"Authorization": "token test-token", "Accept": "application/vnd.github+json"}


def github(cloud_url: str) -> httpx.Client:
    return httpx.Client(
        verify=client_context(), base_url=f"{cloud_url}/github", headers=GITHUB_HEADERS, timeout=10
    )


def new_repo(cloud_url: str, org: str = "conneskills") -> str:
    name = unique_name("repo")
    with github(cloud_url) as gh:
        answer = gh.post(f"/orgs/{org}/repos", json={"name": name})
        assert answer.status_code == 201, answer.text
    return f"{org}/{name}"


def repo_runners(cloud_url: str, repo: str) -> list[dict]:
    with github(cloud_url) as gh:
        answer = gh.get(f"/repos/{repo}/actions/runners")
        assert answer.status_code == 200, answer.text
        return answer.json()["runners"]


def docker_client(cloud_url: str) -> docker.DockerClient:
    return docker.DockerClient(base_url=cloud_url.replace("http://", "tcp://"))


def job_containers(cloud_url: str, job_id: str) -> list:
    return docker_client(cloud_url).containers.list(
        all=True, filters={"label": [f"{JOB_LABEL}={job_id}"]}
    )


def platform_containers(cloud_url: str) -> list:
    return docker_client(cloud_url).containers.list(
        all=True, filters={"label": [f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}"]}
    )


def set_job_seconds(cloud_url: str, seconds: float) -> None:
    answer = httpx.put(
        f"{cloud_url}/_localcloud/config",
        json={"runner_job_seconds": seconds},
        verify=client_context(),
    )
    assert answer.status_code == 200, answer.text


async def wait_for_runner(
    api: httpx.AsyncClient, runner_id: str, status: str, seconds: float = 60
) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        answer = await api.get(f"/api/v1/runners/{runner_id}")
        assert answer.status_code == 200, answer.text
        runner = answer.json()
        if runner["status"] == status:
            return runner
        if time.monotonic() > deadline:
            raise AssertionError(f"runner {runner_id} not {status} after {seconds}s: {runner}")
        await asyncio.sleep(0.2)


class Served:
    """An ASGI app served by uvicorn on a free port in a thread (a gateway, a fake upstream)."""

    def __init__(self, app, **config) -> None:
        import threading

        import uvicorn

        from tests.helpers.platform import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", **config)
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
