"""Runners through the API with a real worker, the dev server and the local cloud's Docker and
GitHub: each runner's whole life, its cancellation, a name GitHub refuses."""

from __future__ import annotations

import asyncio

import pytest

from tests.helpers.platform import wait_for_job
from tests.helpers.runners import (
    job_containers,
    new_repo,
    repo_runners,
    set_job_seconds,
    wait_for_runner,
)


@pytest.fixture
def long_jobs(localcloud):
    set_job_seconds(localcloud.url, 600)
    yield
    set_job_seconds(localcloud.url, 2)


async def test_three_runners_each_run_one_job_and_leave_nothing_behind(api, localcloud):
    repo = new_repo(localcloud.url)
    set_job_seconds(localcloud.url, 4)
    try:
        answer = await api.post(
            "/api/v1/runners",
            json={"scope": "repo", "scope_name": repo, "labels": ["linux", "x64"], "count": 3},
        )
        assert answer.status_code == 202, answer.text
        runners = answer.json()["runners"]
        assert [r["status"] for r in runners] == ["creating"] * 3
        ids = [r["runner_id"] for r in runners]
        assert len(set(ids)) == 3
        for runner_id in ids:
            await wait_for_runner(api, runner_id, "running")
        assert sum(len(job_containers(localcloud.url, i)) for i in ids) == 3
        registered = repo_runners(localcloud.url, repo)
        assert sorted(r["name"] for r in registered) == sorted(ids)
        assert all(r["status"] == "online" and r["busy"] for r in registered)
        listed = (await api.get("/api/v1/runners")).json()
        assert {r["runner_id"] for r in listed} >= set(ids)
        jobs = await asyncio.gather(*(wait_for_job(api, i, seconds=60) for i in ids))
    finally:
        set_job_seconds(localcloud.url, 2)
    assert [j["status"] for j in jobs] == ["completed"] * 3
    assert all(j["result"]["outcome"] == "exited" and j["result"]["exit_code"] == 0 for j in jobs)
    assert all(job_containers(localcloud.url, i) == [] for i in ids)
    assert repo_runners(localcloud.url, repo) == []
    final = (await api.get(f"/api/v1/runners/{ids[0]}")).json()
    assert final["status"] == "completed" and final["github_runner_id"]


async def test_delete_mid_run_removes_the_container_and_the_registration(
    api, localcloud, long_jobs
):
    repo = new_repo(localcloud.url)
    answer = await api.post(
        "/api/v1/runners",
        json={"scope": "repo", "scope_name": repo, "runner_name": "deleted-mid-run"},
    )
    runner_id = answer.json()["runners"][0]["runner_id"]
    running = await wait_for_runner(api, runner_id, "running")
    assert running["container_state"] == "running"
    assert [r["name"] for r in repo_runners(localcloud.url, repo)] == ["deleted-mid-run"]

    destroyed = await api.delete(f"/api/v1/runners/{runner_id}")
    assert destroyed.status_code == 200, destroyed.text
    assert destroyed.json()["destroyed"] is True
    assert job_containers(localcloud.url, runner_id) == []
    assert repo_runners(localcloud.url, repo) == []
    job = await wait_for_job(api, runner_id)
    assert job["status"] == "cancelled"
    assert (await api.get(f"/api/v1/runners/{runner_id}")).json()["status"] == "cancelled"


async def test_a_name_github_already_has_fails_the_job_clearly_and_keeps_that_runner(
    api, localcloud
):
    from tests.helpers.runners import github

    repo = new_repo(localcloud.url)
    with github(localcloud.url) as gh:
        taken = gh.post(
            f"/repos/{repo}/actions/runners/generate-jitconfig",
            json={"name": "taken-name", "runner_group_id": 1, "labels": ["team"]},
        )
        assert taken.status_code == 201
    answer = await api.post(
        "/api/v1/runners", json={"scope": "repo", "scope_name": repo, "runner_name": "taken-name"}
    )
    runner_id = answer.json()["runners"][0]["runner_id"]
    job = await wait_for_job(api, runner_id)
    assert job["status"] == "failed"
    assert "409" in job["error"] and "already exists" in job["error"]
    # The registration that was there before is someone else's: left alone.
    assert [r["name"] for r in repo_runners(localcloud.url, repo)] == ["taken-name"]
    assert job_containers(localcloud.url, runner_id) == []


async def test_runners_need_the_runners_scope(api):
    key = await api.post("/api/v1/api-keys", json={"name": "reader", "scopes": ["read", "write"]})
    assert key.status_code == 201, key.text
    answer = await api.get("/api/v1/runners", headers={"X-API-Key": key.json()["key"]})
    assert answer.status_code == 403
