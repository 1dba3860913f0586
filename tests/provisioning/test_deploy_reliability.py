"""Deploys under stress: cancel mid-operation, a worker killed with SIGKILL, Cloud Run failing calls."""

from __future__ import annotations

import asyncio
import subprocess

import pytest
from sqlalchemy import select

from contracts.provisioning.names import CloudRunSteps
from providers.google.cloud_run import CloudRunServices
from store.provisioning.models import ServiceRecord
from temporal.binaries import temporal_cli
from tests.helpers.platform import (
    own_platform,
    unique_name,
    wait_for_job,
    wait_for_pending_activity,
)
from tests.helpers.provisioning import IMAGE, deploy


@pytest.fixture
def slow_operations(localcloud):
    """Cloud Run operations take long enough to act while one is pending."""
    localcloud.set_lro_delay(6.0)
    yield
    localcloud.set_lro_delay(0.2)
    localcloud.clear_faults()


async def test_cancel_during_deploy_deletes_the_new_service(api, client, settings, slow_operations):
    name = unique_name("cancel")
    job_id = (await deploy(api, name))["job_id"]
    await wait_for_pending_activity(client, job_id, CloudRunSteps.APPLY_SERVICE)

    response = await api.post(f"/api/v1/jobs/{job_id}/cancel")
    assert response.status_code == 202, response.text

    job = await wait_for_job(api, job_id, seconds=60)
    assert job["status"] == "cancelled", job
    assert "cancelled" in job["error"]
    assert await asyncio.to_thread(CloudRunServices(settings).get, name) is None
    logs = (await api.get(f"/api/v1/jobs/{job_id}/logs", params={"lines": 100})).json()["logs"]
    assert any("compensating: delete the new service" in line for line in logs)

    again = await api.post(f"/api/v1/jobs/{job_id}/cancel")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"


async def test_cancel_with_the_temporal_cli_has_the_same_effect(
    api, client, settings, temporal_address, slow_operations
):
    name = unique_name("clicancel")
    job_id = (await deploy(api, name))["job_id"]
    await wait_for_pending_activity(client, job_id, CloudRunSteps.APPLY_SERVICE)

    completed = await asyncio.to_thread(
        subprocess.run,
        [temporal_cli(), "workflow", "cancel", "-w", job_id, "--address", temporal_address],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert completed.returncode == 0, completed.stderr

    job = await wait_for_job(api, job_id, seconds=60)
    assert job["status"] == "cancelled", job
    assert await asyncio.to_thread(CloudRunServices(settings).get, name) is None


async def test_cancelling_an_update_restores_the_previous_configuration(
    api, client, settings, localcloud
):
    name = unique_name("restore")
    assert (await wait_for_job(api, (await deploy(api, name, env_vars={"A": "1"}))["job_id"]))[
        "status"
    ] == "completed"
    localcloud.set_lro_delay(6.0)
    try:
        response = await api.put(
            f"/api/v1/services/{name}",
            json={"service_name": name, "env_vars": {"A": "changed"}, "memory": "2Gi"},
        )
        job_id = response.json()["job_id"]
        await wait_for_pending_activity(client, job_id, CloudRunSteps.APPLY_SERVICE)
        await api.post(f"/api/v1/jobs/{job_id}/cancel")
        job = await wait_for_job(api, job_id, seconds=60)
    finally:
        localcloud.set_lro_delay(0.2)
    assert job["status"] == "cancelled", job
    details = (await api.get(f"/api/v1/services/{name}/details")).json()
    assert details["env_vars"] == {"A": "1"}
    assert details["memory"] != "2Gi"


async def test_a_503_from_cloud_run_is_retried_and_the_job_completes(api, localcloud):
    name = unique_name("retry")
    # Scoped to this job's create: another job on the shared local cloud cannot consume it.
    outage = localcloud.inject_fault(
        fail_next=2, code=503, method="POST", path_contains=f"serviceId={name}"
    )
    try:
        job = await wait_for_job(api, (await deploy(api, name))["job_id"], seconds=90)
    finally:
        localcloud.clear_faults()
    assert job["status"] == "completed", job
    assert localcloud.fired(outage) == 2
    assert (await api.get(f"/api/v1/services/{name}")).status_code == 200


async def test_a_409_from_cloud_run_fails_the_job_with_a_clear_error(api, localcloud, settings):
    name = unique_name("conflict")
    conflict = localcloud.inject_fault(
        fail_next=1, code=409, method="POST", path_contains=f"serviceId={name}"
    )
    try:
        job = await wait_for_job(api, (await deploy(api, name))["job_id"], seconds=60)
    finally:
        localcloud.clear_faults()
    assert job["status"] == "failed", job
    assert localcloud.fired(conflict) == 1
    assert f"creating service {name}" in job["error"]
    assert await asyncio.to_thread(CloudRunServices(settings).get, name) is None


async def test_a_404_from_cloud_run_during_update_fails_the_job(api, localcloud):
    name = unique_name("gone")
    assert (await wait_for_job(api, (await deploy(api, name))["job_id"]))["status"] == "completed"
    gone = localcloud.inject_fault(fail_next=1, code=404, method="PATCH", path_contains=name)
    try:
        response = await api.put(
            f"/api/v1/services/{name}", json={"service_name": name, "env_vars": {"X": "1"}}
        )
        job = await wait_for_job(api, response.json()["job_id"], seconds=60)
    finally:
        localcloud.clear_faults()
    assert job["status"] == "failed", job
    assert localcloud.fired(gone) == 1
    assert f"updating service {name}" in job["error"]


async def test_a_worker_killed_mid_deploy_is_replaced_and_the_job_completes(
    client, settings, localcloud, data_dir
):
    localcloud.set_lro_delay(4.0)
    try:
        async with own_platform(data_dir, settings.temporal_address, localcloud.url) as own:
            name = unique_name("sigkill")
            job_id = (await deploy(own.api, name))["job_id"]
            await wait_for_pending_activity(client, job_id, CloudRunSteps.APPLY_SERVICE)
            own.kill_worker()
            localcloud.set_lro_delay(0.2)
            own.restart_worker()
            job = await wait_for_job(own.api, job_id, seconds=90)
            assert job["status"] == "completed", job
            listed = (await own.api.get("/api/v1/services", params={"limit": 1000})).json()
            assert [s["name"] for s in listed["services"]].count(name) == 1
    finally:
        localcloud.set_lro_delay(0.2)


async def test_deploying_with_the_same_idempotency_key_returns_the_same_job(api):
    name = unique_name("idem")
    body = {"service_name": name, "image": IMAGE}
    headers = {"Idempotency-Key": f"key-{name}"}
    first = await api.post("/api/v1/services/deploy", json=body, headers=headers)
    second = await api.post("/api/v1/services/deploy", json=body, headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.json()["job_id"] == second.json()["job_id"]

    job = await wait_for_job(api, first.json()["job_id"])
    assert job["status"] == "completed"
    after = await api.post("/api/v1/services/deploy", json=body, headers=headers)
    assert after.status_code == 202 and after.json()["job_id"] == first.json()["job_id"]
    assert after.json()["status"] == "completed"

    different = await api.post(
        "/api/v1/services/deploy", json={**body, "memory": "1Gi"}, headers=headers
    )
    assert different.status_code == 409
    assert different.json()["error"]["code"] == "idempotency_conflict"


async def test_a_cancel_during_an_undeploy_lets_the_deletion_finish_and_unregisters(
    api, client, db, settings, slow_operations, localcloud
):
    name = unique_name("undelcancel")
    localcloud.set_lro_delay(0.2)
    assert (await wait_for_job(api, (await deploy(api, name))["job_id"]))["status"] == "completed"
    localcloud.set_lro_delay(6.0)
    job_id = (await api.delete(f"/api/v1/services/{name}")).json()["job_id"]
    await wait_for_pending_activity(client, job_id, CloudRunSteps.DELETE_SERVICE)
    assert (await api.post(f"/api/v1/jobs/{job_id}/cancel")).status_code == 202

    job = await wait_for_job(api, job_id, seconds=60)
    assert job["status"] == "completed", job
    assert job["result"]["cancel_ignored"] is True
    assert await asyncio.to_thread(CloudRunServices(settings).get, name) is None
    async with db.transaction() as session:
        assert await session.scalar(select(ServiceRecord).where(ServiceRecord.name == name)) is None
