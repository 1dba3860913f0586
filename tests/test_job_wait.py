"""`GET /jobs/{id}?wait=N`: the answer is held until the job has settled (ended, or held for an
operator) or N seconds have passed; bad values are refused before anything is held."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from providers.tls import client_context
from tests.helpers.job_controls import create_key, refuse_access_policy, start_deploy
from tests.helpers.platform import ADMIN_KEY, unique_name, wait_for_job

SLOW_CREATE_MS = 3000


def _slow_create(localcloud, name: str, latency_ms: int = SLOW_CREATE_MS) -> None:
    """The deploy's create call answers `latency_ms` late: the job runs at least that long."""
    localcloud.delay_next("POST", f"serviceId={name}", latency_ms)


async def test_a_wait_answers_once_the_job_has_ended(api, clean_faults):
    name = unique_name("wait")
    _slow_create(clean_faults, name)
    job_id = await start_deploy(api, name)

    began = time.monotonic()
    waiting = asyncio.create_task(api.get(f"/api/v1/jobs/{job_id}", params={"wait": 25}))
    await asyncio.sleep(0.5)
    assert not waiting.done(), "the answer was not held while the job ran"
    response = await waiting
    assert response.status_code == 200, response.text
    job = response.json()
    assert job["status"] == "completed", job
    assert job["result"]["service_name"] == name
    # Held until the job ended, not to the end of the wait.
    assert time.monotonic() - began < 25
    # The same answer as a read without waiting.
    assert (await api.get(f"/api/v1/jobs/{job_id}")).json() == job


async def test_a_wait_answers_the_job_as_it_is_when_the_time_is_up(api, clean_faults):
    name = unique_name("wait")
    _slow_create(clean_faults, name, latency_ms=6000)
    job_id = await start_deploy(api, name)

    # However short the wait: the time being up is no failure of the read.
    for wait in (1, 0.2, 0.01):
        response = await api.get(f"/api/v1/jobs/{job_id}", params={"wait": wait})
        assert response.status_code == 200, response.text
        assert response.json()["status"] in ("queued", "running"), response.json()
    assert (await wait_for_job(api, job_id))["status"] == "completed"


async def test_a_wait_answers_once_the_job_is_held_for_an_operator(api, clean_faults):
    name = unique_name("wait")
    refuse_access_policy(clean_faults, name)
    job_id = await start_deploy(api, name, hold=True)

    response = await api.get(f"/api/v1/jobs/{job_id}", params={"wait": 25})
    assert response.status_code == 200, response.text
    job = response.json()
    assert job["status"] == "needs_attention", job
    assert job["root_cause"]["step"] == "cloud_run.set_invokers"

    # A settled job is answered at once, whatever the wait.
    again = await api.get(f"/api/v1/jobs/{job_id}", params={"wait": 25})
    assert again.json()["status"] == "needs_attention"
    assert (await api.post(f"/api/v1/jobs/{job_id}/rollback")).status_code == 202
    assert (await wait_for_job(api, job_id))["status"] == "failed"


@pytest.mark.parametrize("wait", ["-1", "31", "nan", "inf", "-inf", "soon", "1e999", ""])
async def test_a_bad_wait_is_refused_with_the_envelope(api, wait):
    response = await api.get("/api/v1/jobs/no-such-job", params={"wait": wait})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error", error
    assert any("wait" in str(field) for field in error["details"]["fields"]), error


async def test_a_wait_is_no_way_round_the_keys_scopes(api, api_server):
    """A job that does not exist, or a key that may not read jobs, is answered at once."""
    missing = await api.get("/api/v1/jobs/no-such-job", params={"wait": 25})
    assert missing.status_code == 404, missing.text
    key = await create_key(api, "crm")
    name = unique_name("wait")
    job_id = await start_deploy(api, name)
    plain = await api.get(f"/api/v1/jobs/{job_id}", headers={"X-API-Key": key})
    waited = await api.get(
        f"/api/v1/jobs/{job_id}", params={"wait": 25}, headers={"X-API-Key": key}
    )
    assert waited.status_code == plain.status_code == 403, waited.text
    assert (await wait_for_job(api, job_id))["status"] == "completed"


async def test_the_suites_wait_fits_its_clients_read_timeout(api_server, api, clean_faults):
    """wait_for_job with a client on httpx's default 5 s timeout, for a job that runs longer: its
    holds end before the client gives up."""
    name = unique_name("wait")
    _slow_create(clean_faults, name, latency_ms=7000)
    job_id = await start_deploy(api, name)
    async with httpx.AsyncClient(
        verify=client_context(), base_url=api_server.url, headers={"X-API-Key": ADMIN_KEY}
    ) as default_timeout:
        assert default_timeout.timeout.read == 5
        assert (await wait_for_job(default_timeout, job_id))["status"] == "completed"
