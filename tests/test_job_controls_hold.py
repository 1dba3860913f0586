"""Hold instead of rolling back (issue 10): a deploy started with `X-Job-On-Failure: hold` whose
access-policy step fails for good waits in needs_attention; retry runs only that step again,
rollback undoes the job, and a hold nobody answers rolls back by itself."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from providers.google.cloud_run import CloudRunServices
from providers.tls import client_context
from tests.helpers.job_controls import IAM_REFUSAL, held, refuse_access_policy, start_deploy
from tests.helpers.platform import ADMIN_KEY, ApiServer, unique_name, wait_for_job


async def test_a_held_deploy_retried_after_the_fault_runs_only_the_failed_step_again(
    api, settings, clean_faults
):
    name = unique_name("hold")
    refuse_access_policy(clean_faults, name)
    job_id = await start_deploy(api, name, hold=True)

    job = await held(api, job_id)
    assert job["status"] == "needs_attention", job
    assert job["current_phase"] == "needs_attention"
    cause = job["root_cause"]
    assert cause["step"] == "cloud_run.set_invokers"
    assert IAM_REFUSAL in cause["message"]
    assert "127.0.0.1" not in cause["message"]
    assert cause["attempts"] == 1
    assert f"/workflows/{job_id}/" in cause["temporal_ui_url"]
    assert cause["temporal_ui_url"].endswith(f"/history/events/{cause['event_id']}")
    assert job["actions"] == {
        "can_cancel": True,
        "can_force_cancel": False,
        "can_retry": True,
        "can_rollback": True,
    }
    listed = (await api.get("/api/v1/jobs", params={"status": "needs_attention"})).json()
    assert job_id in [j["job_id"] for j in listed["jobs"]]
    creates = _creates(clean_faults, name)
    lookups = clean_faults.request_count("GET", f"/services/{name}?")
    assert creates == 1 and lookups >= 1
    assert creates == 1
    assert clean_faults.request_count("POST", f"/services/{name}:setIamPolicy") == 1
    # Still held: the hold is durable, not a retry loop.
    await asyncio.sleep(0.5)
    assert (await api.get(f"/api/v1/jobs/{job_id}")).json()["status"] == "needs_attention"

    clean_faults.clear_faults()
    response = await api.post(f"/api/v1/jobs/{job_id}/retry", json={"comment": "IAM fixed"})
    assert response.status_code == 202, response.text

    job = await wait_for_job(api, job_id)
    assert job["status"] == "completed", job
    assert job["root_cause"] is None and job["compensation"] == []
    # The earlier steps (look-up, create) did not run again.
    assert _creates(clean_faults, name) == creates
    assert clean_faults.request_count("GET", f"/services/{name}?") == lookups
    assert clean_faults.request_count("POST", f"/services/{name}:setIamPolicy") == 2
    assert await asyncio.to_thread(CloudRunServices(settings).get, name) is not None
    logs = (await api.get(f"/api/v1/jobs/{job_id}/logs")).json()["logs"]
    assert any("retry requested: IAM fixed" in line for line in logs)

    again = await api.post(f"/api/v1/jobs/{job_id}/retry")
    assert again.status_code == 409


def _creates(localcloud, name: str) -> int:
    """Cloud Run creates of this service: POST .../services?serviceId=<name>."""
    return localcloud.request_count("POST", f"serviceId={name}")


async def test_a_held_deploy_rolled_back_is_compensated_and_can_start_afresh(
    api, settings, clean_faults
):
    name = unique_name("holdrb")
    refuse_access_policy(clean_faults, name)
    job_id = await start_deploy(api, name, hold=True)
    assert (await held(api, job_id))["status"] == "needs_attention"

    response = await api.post(f"/api/v1/jobs/{job_id}/rollback", json={})
    assert response.status_code == 202, response.text
    job = await wait_for_job(api, job_id)
    assert job["status"] == "failed", job
    assert job["compensation"] == [
        {"step": "delete the new service", "status": "ok", "error": None}
    ]
    assert job["alert"] is None
    assert job["root_cause"]["step"] == "cloud_run.set_invokers"
    assert IAM_REFUSAL in job["root_cause"]["message"]
    assert await asyncio.to_thread(CloudRunServices(settings).get, name) is None
    assert job["actions"]["can_retry"] and not job["actions"]["can_rollback"]

    plain = await api.post(f"/api/v1/jobs/{job_id}/retry")
    assert plain.status_code == 409
    assert "fresh" in plain.json()["error"]["message"]
    assert (await api.post(f"/api/v1/jobs/{job_id}/rollback")).status_code == 409

    clean_faults.clear_faults()
    fresh = await api.post(f"/api/v1/jobs/{job_id}/retry", json={"fresh": True})
    assert fresh.status_code == 202, fresh.text
    new_id = fresh.json()["new_job_id"]
    assert new_id and new_id != job_id
    twice = await api.post(f"/api/v1/jobs/{job_id}/retry", json={"fresh": True})
    assert twice.status_code == 409 and twice.json()["error"]["details"]["new_job_id"] == new_id
    new_job = await wait_for_job(api, new_id)
    assert new_job["status"] == "completed", new_job
    assert new_job["retry_of"] == job_id
    assert new_job["service_name"] == name
    assert job_id not in (new_job["labels"].get("alert") or "")
    old = (await api.get(f"/api/v1/jobs/{job_id}")).json()
    assert new_id in old["retried_by"]
    assert await asyncio.to_thread(CloudRunServices(settings).get, name) is not None


async def _compensating(api: httpx.AsyncClient, job_id: str) -> dict:
    """The job while it undoes what it did: its status, its affordances, and the answer of every
    control, which all say the same."""
    job = await wait_for_job(api, job_id, until={"compensating", "failed", "cancelled"})
    assert job["status"] == "compensating", job
    assert job["current_phase"] == "compensating"
    assert not any(job["actions"][name] for name in ("can_cancel", "can_retry", "can_rollback")), (
        job
    )
    for _ in range(50):  # visibility follows the upsert shortly
        listed = (await api.get("/api/v1/jobs", params={"status": "compensating"})).json()
        if job_id in [j["job_id"] for j in listed["jobs"]]:
            break
        await asyncio.sleep(0.2)
    else:
        raise AssertionError(f"{job_id} not listed as compensating")
    held_jobs = (await api.get("/api/v1/jobs", params={"status": "needs_attention"})).json()
    assert job_id not in [j["job_id"] for j in held_jobs["jobs"]]
    answers = [
        await api.post(f"/api/v1/jobs/{job_id}/retry"),
        await api.post(f"/api/v1/jobs/{job_id}/retry", json={"fresh": True}),
        await api.post(f"/api/v1/jobs/{job_id}/rollback"),
        await api.post(f"/api/v1/jobs/{job_id}/cancel"),
    ]
    for answer in answers:
        assert answer.status_code == 409, answer.text
        error = answer.json()["error"]
        assert error["message"].startswith(f"job {job_id} is compensating:"), error
        assert error["details"] == {"status": "compensating"}
    return job


def _slow_deletion(localcloud, name: str) -> None:
    """The compensation's deletion of the service takes seconds: long enough to look at it."""
    localcloud.inject_fault(
        fail_next=1, code=None, method="DELETE", path_contains=f"/services/{name}", latency_ms=4000
    )


async def test_a_rolled_back_job_shows_compensating_until_it_has_undone_its_work(
    api, settings, clean_faults
):
    name = unique_name("holdcomp")
    refuse_access_policy(clean_faults, name)
    job_id = await start_deploy(api, name, hold=True)
    assert (await held(api, job_id))["status"] == "needs_attention"
    _slow_deletion(clean_faults, name)

    assert (await api.post(f"/api/v1/jobs/{job_id}/rollback")).status_code == 202
    await _compensating(api, job_id)

    job = await wait_for_job(api, job_id)
    assert job["status"] == "failed", job
    assert job["compensation"][0]["status"] == "ok"
    listed = (await api.get("/api/v1/jobs", params={"status": "failed"})).json()
    assert job_id in [j["job_id"] for j in listed["jobs"]]
    assert job["actions"]["can_retry"] and not job["actions"]["can_rollback"]


async def test_a_held_job_cancelled_shows_compensating_then_ends_cancelled(
    api, settings, clean_faults
):
    name = unique_name("holdcan")
    refuse_access_policy(clean_faults, name)
    job_id = await start_deploy(api, name, hold=True)
    assert (await held(api, job_id))["status"] == "needs_attention"
    _slow_deletion(clean_faults, name)

    assert (await api.post(f"/api/v1/jobs/{job_id}/cancel")).status_code == 202
    job = await _compensating(api, job_id)
    assert job["cancel_requested_at"]

    job = await wait_for_job(api, job_id)
    assert job["status"] == "cancelled", job
    assert await asyncio.to_thread(CloudRunServices(settings).get, name) is None


@pytest.fixture
def quick_hold_api(settings):
    """The API with a two-second hold; the suite's worker runs its jobs (same task queue)."""
    with ApiServer(settings.model_copy(update={"job_hold_seconds": 2.0})) as server:
        yield server


async def test_a_hold_nobody_answers_rolls_back_by_itself(
    api, quick_hold_api, settings, clean_faults
):
    name = unique_name("holdto")
    refuse_access_policy(clean_faults, name)
    async with httpx.AsyncClient(
        verify=client_context(),
        base_url=quick_hold_api.url,
        headers={"X-API-Key": ADMIN_KEY},
        timeout=30,
    ) as quick:
        job_id = await start_deploy(quick, name, hold=True)
        job = await wait_for_job(quick, job_id, seconds=60)
    assert job["status"] == "failed", job
    assert job["compensation"] == [
        {"step": "delete the new service", "status": "ok", "error": None}
    ]
    logs = (await api.get(f"/api/v1/jobs/{job_id}/logs")).json()["logs"]
    assert any("holding for retry or rollback" in line for line in logs)
    assert any("hold timeout" in line for line in logs)
    assert await asyncio.to_thread(CloudRunServices(settings).get, name) is None


async def test_a_job_without_hold_fails_at_once_and_the_header_is_validated(api, clean_faults):
    name = unique_name("nohold")
    refuse_access_policy(clean_faults, name)
    job = await wait_for_job(api, await start_deploy(api, name))
    assert job["status"] == "failed"
    assert job["compensation"][0]["status"] == "ok"

    bad = await api.post(
        "/api/v1/services/deploy",
        json={"service_name": unique_name("x"), "image": "nginx"},
        headers={"X-Job-On-Failure": "later"},
    )
    assert bad.status_code == 400, bad.text
