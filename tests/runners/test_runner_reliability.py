"""A runner survives its worker's death, and orphans left behind the platform's back are removed,
by `POST /runners/cleanup` and by the Schedule that runs it."""

from __future__ import annotations

import asyncio
import time

import pytest

from contracts.runners.runners import (
    JOB_LABEL,
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    PLATFORM_RUNNER_LABEL,
)
from tests.helpers.platform import own_platform, wait_for_job
from tests.helpers.runners import (
    docker_client,
    github,
    job_containers,
    new_repo,
    repo_runners,
    set_job_seconds,
    wait_for_runner,
)


async def test_worker_killed_mid_run_the_runner_still_ends_cleanly(
    data_dir, temporal_address, localcloud
):
    repo = new_repo(localcloud.url)
    set_job_seconds(localcloud.url, 6)
    try:
        async with own_platform(data_dir, temporal_address, localcloud.url) as platform:
            answer = await platform.api.post(
                "/api/v1/runners", json={"scope": "repo", "scope_name": repo}
            )
            runner_id = answer.json()["runners"][0]["runner_id"]
            await wait_for_runner(platform.api, runner_id, "running", seconds=60)
            platform.kill_worker()
            await asyncio.sleep(1)
            platform.restart_worker()
            job = await wait_for_job(platform.api, runner_id, seconds=90)
    finally:
        set_job_seconds(localcloud.url, 2)
    assert job["status"] == "completed", job
    assert job_containers(localcloud.url, runner_id) == []
    assert repo_runners(localcloud.url, repo) == []


def _orphans(cloud_url: str, repo: str) -> tuple[str, str]:
    """An exited container with the platform's labels whose job never existed, and an offline
    registration with the platform's runner label that no job owns."""
    docker = docker_client(cloud_url)
    docker.images.pull("busybox", tag="latest")
    container = docker.containers.run(
        "busybox:latest",
        detach=True,
        labels={MANAGED_BY_LABEL: MANAGED_BY_VALUE, JOB_LABEL: "runner-orphan000000"},
    )
    container.stop()
    with github(cloud_url) as gh:
        registered = gh.post(
            f"/repos/{repo}/actions/runners/generate-jitconfig",
            json={
                "name": f"orphan-{container.id[:6]}",
                "runner_group_id": 1,
                "labels": [PLATFORM_RUNNER_LABEL],
            },
        )
        assert registered.status_code == 201
        # A team's own offline runner in the same repository: never the reaper's business.
        gh.post(
            f"/repos/{repo}/actions/runners/generate-jitconfig",
            json={"name": "team-runner", "runner_group_id": 1, "labels": ["team"]},
        )
    return container.id, registered.json()["runner"]["name"]


async def _run_one_runner(api, repo: str) -> None:
    """A runner job in the repository, so the reaper knows the scope."""
    answer = await api.post("/api/v1/runners", json={"scope": "repo", "scope_name": repo})
    await wait_for_job(api, answer.json()["runners"][0]["runner_id"])


async def test_cleanup_removes_orphans_and_nothing_else(api, localcloud):
    repo = new_repo(localcloud.url)
    await _run_one_runner(api, repo)
    container_id, orphan_name = _orphans(localcloud.url, repo)
    answer = await api.post("/api/v1/runners/cleanup")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["completed"] is True
    assert container_id in report["cleaned_runners"]
    assert f"{repo}:{orphan_name}" in report["cleaned_runners"]
    assert report["cleaned_count"] == len(report["cleaned_runners"])
    assert [r["name"] for r in repo_runners(localcloud.url, repo)] == ["team-runner"]
    assert not docker_client(localcloud.url).containers.list(all=True, filters={"id": container_id})


async def test_the_cleanup_schedule_removes_orphans_by_itself(
    data_dir, temporal_address, localcloud
):
    overrides = {"runner_cleanup_interval_minutes": 0.05}  # every 3 s
    async with own_platform(data_dir, temporal_address, localcloud.url, overrides) as platform:
        repo = new_repo(localcloud.url)
        await _run_one_runner(platform.api, repo)
        container_id, orphan_name = _orphans(localcloud.url, repo)
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            names = [r["name"] for r in repo_runners(localcloud.url, repo)]
            # The engine's list alone (`containers.list` inspects each container it lists, and
            # one the cleanup removes in between is a NotFound): asked while the cleanup runs.
            gone = not docker_client(localcloud.url).api.containers(
                all=True, filters={"id": container_id}
            )
            if gone and orphan_name not in names:
                break
            await asyncio.sleep(0.5)
        else:
            pytest.fail("the scheduled cleanup did not remove the orphans")
        assert names == ["team-runner"]
