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


async def test_an_org_runner_in_an_unknown_group_fails_with_the_groups_name(api):
    answer = await api.post(
        "/api/v1/runners",
        json={"scope": "org", "scope_name": "acme", "runner_group": "gpu-pool"},
    )
    assert answer.status_code == 202, answer.text
    job = await wait_for_job(api, answer.json()["runners"][0]["runner_id"])
    assert job["status"] == "failed"
    assert "runner group 'gpu-pool' does not exist in acme" in job["error"]


async def test_an_org_runner_in_the_default_group_runs_its_job(api, localcloud):
    answer = await api.post(
        "/api/v1/runners",
        json={
            "scope": "org",
            "scope_name": "acme",
            "runner_group": "Default",
            "runner_name": "org-one",
        },
    )
    runner_id = answer.json()["runners"][0]["runner_id"]
    job = await wait_for_job(api, runner_id)
    assert job["status"] == "completed", job
    assert job["result"]["runner_name"] == "org-one"


@pytest.mark.parametrize(
    "body",
    [
        {"scope": "repo", "scope_name": "no-slash"},
        {"scope": "org", "scope_name": "a/b"},
        {"scope": "repo", "scope_name": "o/r", "count": 11},
        {"scope": "repo", "scope_name": "o/r", "labels": [""]},
        {"scope": "repo", "scope_name": "o/r", "runner_group": "gpu"},
        {"scope": "repo", "scope_name": "o/r", "extra": 1},
    ],
)
async def test_invalid_runner_requests_are_400_and_start_nothing(api, body):
    answer = await api.post("/api/v1/runners", json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["code"] == "validation_error"


async def test_a_runner_past_its_lifetime_is_stopped_and_removed(
    data_dir, temporal_address, localcloud, long_jobs
):
    from tests.helpers.platform import own_platform

    repo = new_repo(localcloud.url)
    overrides = {"runner_max_lifetime_minutes": 0.05, "runner_poll_seconds": 0.2}
    async with own_platform(data_dir, temporal_address, localcloud.url, overrides) as platform:
        answer = await platform.api.post(
            "/api/v1/runners", json={"scope": "repo", "scope_name": repo}
        )
        runner_id = answer.json()["runners"][0]["runner_id"]
        job = await wait_for_job(platform.api, runner_id, seconds=60)
    assert job["status"] == "completed", job
    assert job["result"]["outcome"] == "lifetime_exceeded"
    assert job_containers(localcloud.url, runner_id) == []
    assert repo_runners(localcloud.url, repo) == []


async def test_unknown_runner_ids_are_404_and_the_request_id_comes_back(api):
    for runner_id in ("runner-000000000000", "nonexistent", "deploy-0123456789ab"):
        assert (await api.get(f"/api/v1/runners/{runner_id}")).status_code == 404
        assert (await api.delete(f"/api/v1/runners/{runner_id}")).status_code == 404
    answer = await api.get("/api/v1/runners", headers={"X-Request-ID": "trace-me-1"})
    assert answer.headers["X-Request-ID"] == "trace-me-1"


async def test_a_repeated_idempotency_key_returns_the_same_runners(api, localcloud):
    repo = new_repo(localcloud.url)
    body = {"scope": "repo", "scope_name": repo, "count": 2}
    headers = {"Idempotency-Key": f"same-{repo}"}
    first = await api.post("/api/v1/runners", json=body, headers=headers)
    again = await api.post("/api/v1/runners", json=body, headers=headers)
    ids = [r["runner_id"] for r in first.json()["runners"]]
    assert [r["runner_id"] for r in again.json()["runners"]] == ids
    other = await api.post("/api/v1/runners", json={**body, "count": 1}, headers=headers)
    assert other.status_code == 409
    for runner_id in ids:
        assert (await wait_for_job(api, runner_id))["status"] == "completed"
    # Destroying a runner that already finished has nothing left to do.
    done = await api.delete(f"/api/v1/runners/{ids[0]}")
    assert done.status_code == 200 and done.json()["destroyed"] is True
    assert len(repo_runners(localcloud.url, repo)) == 0
