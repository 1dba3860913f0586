"""The runners system's scenarios (seed 004): an ephemeral runner, and the sweep of orphans."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import httpx

from contracts.runners.names import Workflows as Runners
from contracts.runners.runners import (
    JOB_LABEL,
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    PLATFORM_RUNNER_LABEL,
)
from providers.tls import client_context
from tests.harness.platform import HarnessPlatform
from tests.harness.scenarios.base import Prepared, Scenario, job_ended, no_prerequisites
from tests.harness.snapshot import cloud_resources
from tests.helpers.runners import GITHUB_HEADERS, docker_client, set_job_seconds, wait_for_runner

if TYPE_CHECKING:
    from tests.harness.cases import Outcome


# EphemeralRunner: a registered GitHub runner in a container that runs one job and is removed.
async def _prepare_runner(platform: HarnessPlatform) -> Prepared:
    prepared = await no_prerequisites("hrepo-")
    async with httpx.AsyncClient(
        verify=client_context(),
        base_url=f"{platform.cloud.url}/github",
        headers=GITHUB_HEADERS,
        timeout=10,
    ) as github:
        answer = await github.post("/orgs/conneskills/repos", json={"name": prepared.tokens[0]})
        assert answer.status_code == 201, answer.text
    return prepared


async def _start_runner(platform: HarnessPlatform, prepared: Prepared) -> str:
    body = {"scope": "repo", "scope_name": f"conneskills/{prepared.tokens[0]}"}
    response = await platform.api.post("/api/v1/runners", json=body)
    assert response.status_code == 202, response.text
    return response.json()["runners"][0]["runner_id"]


# RunnerCleanup (the Schedule's sweep, and POST /runners/cleanup): removes orphans only. Prepared:
# a repository with a runner job still running in it (so the sweep knows the scope, and its
# container and registration are a running job's), two orphans (an exited container with the
# platform's labels whose job never ran, an offline registration with the platform's runner label
# that no job owns), and what is nobody's orphan: a team's own offline runner, a container without
# the platform's labels, a running platform container without a job label.
RUNNER_BUSY_SECONDS = 600.0
RUNNER_JOB_SECONDS = 2.0  # the local cloud's default, put back by the teardown


async def _prepare_runner_cleanup(platform: HarnessPlatform) -> Prepared:
    prepared = await _prepare_runner(platform)
    repo = f"conneskills/{prepared.tokens[0]}"
    set_job_seconds(platform.cloud.url, RUNNER_BUSY_SECONDS)
    runner_id = await _start_runner(platform, prepared)
    prepared.extra["runner_id"] = runner_id
    await wait_for_runner(platform.api, runner_id, "running", seconds=90)
    prepared.extra |= await asyncio.to_thread(
        _runner_world, platform, repo, prepared.tokens[0], runner_id
    )
    # The checks name resources by the snapshot's keys: they must be there, or they prove nothing.
    there = {f"{kind} {key}" for kind, key, _ in cloud_resources(platform.cloud.data_dir)}
    missing = set(prepared.extra["orphans"] + prepared.extra["kept"]) - there
    assert not missing, f"prepared, but not in the snapshot: {missing}"
    return prepared


def _runner_world(platform: HarnessPlatform, repo: str, token: str, runner_id: str) -> dict:
    docker = docker_client(platform.cloud.url)
    docker.images.pull("busybox", tag="latest")
    platform_labels = {MANAGED_BY_LABEL: MANAGED_BY_VALUE}

    def container(name: str, labels: dict, running: bool) -> str:
        made = docker.containers.run(
            "busybox:latest", name=f"{token}-{name}", detach=True, labels=labels
        )
        if not running:
            made.stop()
        return f"docker.containers /{made.name}"  # the snapshot's key: Docker's `Name`

    orphans = [
        container("orphan", platform_labels | {JOB_LABEL: f"runner-{token}-gone"}, running=False)
    ]
    kept = [
        container("other", {}, running=False),
        container("unowned", platform_labels, running=True),
    ]
    registrations = {}
    with httpx.Client(
        verify=client_context(),
        base_url=f"{platform.cloud.url}/github",
        headers=GITHUB_HEADERS,
        timeout=10,
    ) as github:
        for name, labels in (("orphan", [PLATFORM_RUNNER_LABEL]), ("team", ["team"])):
            answer = github.post(
                f"/repos/{repo}/actions/runners/generate-jitconfig",
                json={"name": f"{token}-{name}", "runner_group_id": 1, "labels": labels},
            )
            assert answer.status_code == 201, answer.text
            registrations[name] = f"github.runners repos/{repo}/{token}-{name}"
        running = github.get(f"/repos/{repo}/actions/runners").json()["runners"]
    orphans.append(registrations["orphan"])
    kept.append(registrations["team"])
    # The running job's registration and container.
    kept.extend(
        f"github.runners repos/{repo}/{runner['name']}"
        for runner in running
        if runner["name"] not in (f"{token}-orphan", f"{token}-team")
    )
    busy = docker.containers.list(all=True, filters={"label": [f"{JOB_LABEL}={runner_id}"]})
    assert busy, "the running runner job has no container"
    kept.extend(f"docker.containers /{each.name}" for each in busy)
    return {"orphans": orphans, "kept": kept}


async def _start_runner_cleanup(platform: HarnessPlatform, prepared: Prepared) -> str:
    response = await platform.api.post("/api/v1/runners/cleanup")
    assert response.status_code == 200, response.text
    return response.json()["job_id"]


def _expect_runner_cleanup(prepared: Prepared, outcome: Outcome) -> list[str]:
    """Never a non-orphan removed or changed; a completed sweep removed every orphan."""
    problems = []
    touched = set(outcome.raw_removed) | set(outcome.raw_modified)
    kept = sorted(touched & set(prepared.extra["kept"]))
    if kept:
        problems.append(f"the sweep {outcome.status} and touched what is no orphan: {kept}")
    if outcome.status == "completed":
        missed = sorted(set(prepared.extra["orphans"]) - set(outcome.raw_removed))
        if missed:
            problems.append(f"the sweep completed and left orphans: {missed}")
    return problems


async def _teardown_runner_cleanup(platform: HarnessPlatform, prepared: Prepared) -> None:
    """Ends the runner job the scenario left running, puts the runners' job time back, and removes
    what the scenario made that is still there (the orphans a failed sweep left, the non-orphans):
    the next case's sweep would otherwise remove them and count them as its own."""
    set_job_seconds(platform.cloud.url, RUNNER_JOB_SECONDS)
    runner_id = prepared.extra.get("runner_id")
    if runner_id:
        answer = await platform.api.delete(f"/api/v1/runners/{runner_id}")
        assert answer.status_code in (200, 202, 404), answer.text
        await job_ended(platform, runner_id, seconds=120)
    await asyncio.to_thread(_remove_runner_world, platform, prepared.tokens[0])


def _remove_runner_world(platform: HarnessPlatform, token: str) -> None:
    docker = docker_client(platform.cloud.url)
    for container in docker.containers.list(all=True, filters={"name": token}):
        container.remove(force=True)
    repo = f"/repos/conneskills/{token}/actions/runners"
    with httpx.Client(
        verify=client_context(),
        base_url=f"{platform.cloud.url}/github",
        headers=GITHUB_HEADERS,
        timeout=10,
    ) as github:
        for runner in github.get(repo).json().get("runners", []):
            github.delete(f"{repo}/{runner['id']}")


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(Runners.EPHEMERAL_RUNNER, "create", _prepare_runner, _start_runner),
    Scenario(
        Runners.RUNNER_CLEANUP,
        "remove",
        _prepare_runner_cleanup,
        _start_runner_cleanup,
        expect=_expect_runner_cleanup,
        teardown=_teardown_runner_cleanup,
    ),
)
