"""Two-stage cancel and the compensation report (issue 10): force-cancel only for admins, only
after a graceful cancel and its cool-off, then a cleanup job removes what the terminated job owned;
a compensation that fails is in the report and raises the alert label."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from contracts.provisioning.names import CloudRunSteps
from providers.google.cloud_run import CloudRunServices
from providers.tls import client_context
from tests.helpers.job_controls import (
    COOLOFF,
    DELETE_REFUSAL,
    IAM_REFUSAL,
    create_key,
    refuse_access_policy,
    refuse_deletion,
    start_deploy,
)
from tests.helpers.platform import (
    ADMIN_KEY,
    unique_name,
    wait_for_job,
    wait_for_pending_activity,
)
from tests.helpers.runners import (
    job_containers,
    new_repo,
    repo_runners,
    set_job_seconds,
    wait_for_runner,
)


@pytest.fixture
def slow_operations(localcloud):
    localcloud.set_lro_delay(5.0)
    yield
    localcloud.set_lro_delay(0.2)
    localcloud.clear_faults()


async def test_force_cancel_waits_for_the_cooloff_then_terminates_and_cleans_up(
    api, client, settings, localcloud, quick_cooloff_api, slow_operations
):
    name = unique_name("force")
    # The compensation's deletion hangs: the graceful cancel cannot finish.
    hang = localcloud.inject_fault(
        fail_next=1, code=None, method="DELETE", path_contains=f"/services/{name}", latency_ms=15000
    )
    async with httpx.AsyncClient(
        verify=client_context(),
        base_url=quick_cooloff_api.url,
        headers={"X-API-Key": ADMIN_KEY},
        timeout=30,
    ) as admin:
        job_id = await start_deploy(admin, name)
        await wait_for_pending_activity(client, job_id, CloudRunSteps.APPLY_SERVICE)

        early = await admin.post(f"/api/v1/jobs/{job_id}/force-cancel")
        assert early.status_code == 409, early.text
        assert "cancel" in early.json()["error"]["message"]

        cancel = await admin.post(f"/api/v1/jobs/{job_id}/cancel", json={"comment": "stuck"})
        assert cancel.status_code == 202, cancel.text
        cancelled_at = time.monotonic()
        too_soon = await admin.post(f"/api/v1/jobs/{job_id}/force-cancel", json={"comment": "x"})
        assert too_soon.status_code == 409, too_soon.text
        assert "allowed_at" in too_soon.json()["error"]["details"]
        await wait_for_pending_activity(client, job_id, CloudRunSteps.DELETE_SERVICE)
        job = (await admin.get(f"/api/v1/jobs/{job_id}")).json()
        assert job["status"] == "compensating" and job["cancel_requested_at"]
        assert not job["actions"]["can_cancel"]

        writer = await create_key(admin, "write")
        refused = await admin.post(
            f"/api/v1/jobs/{job_id}/force-cancel", headers={"X-API-Key": writer}
        )
        assert refused.status_code == 403

        await asyncio.sleep(max(0.0, cancelled_at + COOLOFF + 0.5 - time.monotonic()))
        job = (await admin.get(f"/api/v1/jobs/{job_id}")).json()
        assert job["actions"]["can_force_cancel"], job
        forced = await admin.post(
            f"/api/v1/jobs/{job_id}/force-cancel", json={"comment": "deletion hangs"}
        )
        assert forced.status_code == 202, forced.text
        cleanup_id = forced.json()["cleanup_job_id"]

        job = (await admin.get(f"/api/v1/jobs/{job_id}")).json()
        assert job["status"] == "failed"
        cleanup = await wait_for_job(admin, cleanup_id, seconds=60)
        job = (await admin.get(f"/api/v1/jobs/{job_id}")).json()
    assert cleanup["status"] == "completed", cleanup
    assert cleanup["labels"]["cleanup_of"] == job_id
    assert f"cloud run service {name}" in cleanup["result"]["removed"]
    assert await asyncio.to_thread(CloudRunServices(settings).get, name) is None
    assert localcloud.fired(hang) == 1
    # The force-cancelled job tells who ended it, and what its cleanup did.
    assert job["status"] == "failed" and job["current_phase"] == "force-cancelled", job
    assert job["error"].startswith("force-cancelled by API key "), job["error"]
    assert "after a cancel requested at " in job["error"]
    assert job["error"].endswith(": deletion hangs")
    assert job["alert"] is None
    shown = job["cleanup"]
    assert shown["job_id"] == cleanup_id and shown["status"] == "completed"
    assert shown["job_url"].endswith(f"/api/v1/jobs/{cleanup_id}")
    assert f"/workflows/{cleanup_id}" in shown["temporal_ui_url"]
    assert shown["removed"] == cleanup["result"]["removed"]
    assert shown["steps"] and all(entry["status"] == "ok" for entry in shown["steps"])
    assert shown["alert"] is None and shown["error"] is None


async def test_a_compensation_that_fails_is_reported_and_raises_the_alert(
    api, client, settings, clean_faults
):
    name = unique_name("compfail")
    refusal = refuse_access_policy(clean_faults, name)
    refused_delete = refuse_deletion(clean_faults, name)
    job_id = await start_deploy(api, name)
    job = await wait_for_job(api, job_id)
    assert job["status"] == "failed", job
    assert job["root_cause"]["step"] == "cloud_run.set_invokers"
    assert job["root_cause"]["message"].endswith(IAM_REFUSAL)
    assert job["root_cause"]["attempts"] == 1
    assert (clean_faults.fired(refusal), clean_faults.fired(refused_delete)) == (1, 1)
    [entry] = job["compensation"]
    assert entry["step"] == "delete the new service" and entry["status"] == "failed"
    assert DELETE_REFUSAL in entry["error"]
    assert job["alert"] == "compensation_failed"
    assert job["labels"]["alert"] == "compensation_failed"
    # What the platform's alerting looks for.
    alerted = [
        execution.id
        async for execution in client.list_workflows(
            "ConneskillsLabels = 'alert=compensation_failed'"
        )
    ]
    assert job_id in alerted
    listed = (await api.get("/api/v1/jobs", params={"service_name": name})).json()["jobs"]
    assert listed[0]["alert"] == "compensation_failed"
    assert listed[0]["compensation"] == job["compensation"]
    await asyncio.to_thread(CloudRunServices(settings).force_delete, name)


async def test_actions_follow_the_state_and_the_callers_scopes(api, clean_faults):
    name = unique_name("acts")
    refuse_access_policy(clean_faults, name)
    job_id = await start_deploy(api, name, hold=True)
    job = await wait_for_job(api, job_id, until={"needs_attention", "failed"})
    assert job["status"] == "needs_attention"
    reader, writer = await create_key(api, "read"), await create_key(api, "write")

    async def actions(key: str) -> dict:
        response = await api.get(f"/api/v1/jobs/{job_id}", headers={"X-API-Key": key})
        listed = await api.get("/api/v1/jobs", headers={"X-API-Key": key})
        [in_list] = [j for j in listed.json()["jobs"] if j["job_id"] == job_id]
        assert in_list["actions"] == response.json()["actions"]
        return response.json()["actions"]

    assert await actions(reader) == dict.fromkeys(
        ("can_cancel", "can_force_cancel", "can_retry", "can_rollback"), False
    )
    expected = {"can_cancel": True, "can_force_cancel": False, "can_retry": True}
    assert await actions(writer) == {**expected, "can_rollback": True}
    assert await actions(ADMIN_KEY) == {**expected, "can_rollback": True}
    refused = await api.post(f"/api/v1/jobs/{job_id}/retry", headers={"X-API-Key": reader})
    assert refused.status_code == 403

    rolled = await api.post(f"/api/v1/jobs/{job_id}/rollback", headers={"X-API-Key": writer})
    assert rolled.status_code == 202
    await wait_for_job(api, job_id)
    ended = {"can_cancel": False, "can_force_cancel": False, "can_rollback": False}
    # A fresh retry runs the job with its start's authorization: the starter (here the admin key)
    # or an admin only.
    assert await actions(writer) == {**ended, "can_retry": False}
    assert await actions(ADMIN_KEY) == {**ended, "can_retry": True}
    refused = await api.post(
        f"/api/v1/jobs/{job_id}/retry", json={"fresh": True}, headers={"X-API-Key": writer}
    )
    assert refused.status_code == 403


async def test_a_writer_may_start_its_own_failed_job_again(api, clean_faults):
    writer = await create_key(api, "write")
    name = unique_name("ownfresh")
    refuse_access_policy(clean_faults, name)
    async with httpx.AsyncClient(
        verify=client_context(),
        base_url=str(api.base_url),
        headers={"X-API-Key": writer},
        timeout=30,
    ) as own:
        job = await wait_for_job(own, await start_deploy(own, name))
        assert job["status"] == "failed" and job["actions"]["can_retry"]
        listed = (await own.get("/api/v1/jobs", params={"service_name": name})).json()["jobs"]
        assert listed[0]["actions"]["can_retry"]
        clean_faults.clear_faults()
        fresh = await own.post(f"/api/v1/jobs/{job['job_id']}/retry", json={"fresh": True})
        assert fresh.status_code == 202, fresh.text
        assert (await wait_for_job(own, fresh.json()["new_job_id"]))["status"] == "completed"


async def test_cancelling_a_held_job_compensates_it(api, settings, clean_faults):
    name = unique_name("heldcancel")
    refuse_access_policy(clean_faults, name)
    job_id = await start_deploy(api, name, hold=True)
    job = await wait_for_job(api, job_id, until={"needs_attention", "failed"})
    assert job["status"] == "needs_attention"
    assert (await api.post(f"/api/v1/jobs/{job_id}/cancel")).status_code == 202
    job = await wait_for_job(api, job_id)
    assert job["status"] == "cancelled", job
    assert job["compensation"] == [
        {"step": "delete the new service", "status": "ok", "error": None}
    ]
    assert await asyncio.to_thread(CloudRunServices(settings).get, name) is None


async def test_controls_of_a_job_that_does_not_exist_or_already_completed(api):
    for action in ("retry", "rollback", "force-cancel", "cancel"):
        missing = await api.post(f"/api/v1/jobs/deploy-nope/{action}")
        assert missing.status_code == 404, (action, missing.text)
    job = await wait_for_job(api, await start_deploy(api, unique_name("done")))
    assert job["status"] == "completed"
    assert job["actions"] == dict.fromkeys(
        ("can_cancel", "can_force_cancel", "can_retry", "can_rollback"), False
    )
    for action, body in (("retry", None), ("retry", {"fresh": True}), ("rollback", None)):
        response = await api.post(f"/api/v1/jobs/{job['job_id']}/{action}", json=body)
        assert response.status_code == 409, (action, response.text)
    bad = await api.post(f"/api/v1/jobs/{job['job_id']}/retry", json={"fresh": "yes"})
    assert bad.status_code == 400


async def test_force_cancel_of_a_job_terminated_by_hand_only_cleans_up(
    api, client, settings, slow_operations
):
    name = unique_name("termhand")
    job_id = await start_deploy(api, name)
    await wait_for_pending_activity(client, job_id, CloudRunSteps.APPLY_SERVICE)
    await client.get_workflow_handle(job_id).terminate(reason="by hand")

    forced = await api.post(f"/api/v1/jobs/{job_id}/force-cancel")
    assert forced.status_code == 202, forced.text
    cleanup = await wait_for_job(api, forced.json()["cleanup_job_id"], seconds=60)
    assert cleanup["status"] == "completed", cleanup
    assert await asyncio.to_thread(CloudRunServices(settings).get, name) is None
    again = await api.post(f"/api/v1/jobs/{job_id}/force-cancel")
    assert again.status_code == 409


async def test_a_cleanup_that_cannot_remove_something_alerts_on_the_force_cancelled_job(
    api, client, settings, localcloud, slow_operations
):
    name = unique_name("cleanfail")
    job_id = await start_deploy(api, name)
    await wait_for_pending_activity(client, job_id, CloudRunSteps.APPLY_SERVICE)
    await client.get_workflow_handle(job_id).terminate(reason="by hand")
    # The cleanup's look-up of the job's services (in every region) is refused.
    localcloud.inject_fault(
        fail_next=1,
        code=403,
        method="GET",
        path_contains="/locations/-/services",
        message="Listing refused by policy",
    )

    forced = await api.post(f"/api/v1/jobs/{job_id}/force-cancel")
    assert forced.status_code == 202, forced.text
    cleanup_id = forced.json()["cleanup_job_id"]
    cleanup = await wait_for_job(api, cleanup_id, seconds=60)
    assert cleanup["status"] == "failed", cleanup
    assert cleanup["alert"] == "compensation_failed"
    assert "Listing refused by policy" in cleanup["error"]

    job = (await api.get(f"/api/v1/jobs/{job_id}")).json()
    assert job["status"] == "failed" and job["current_phase"] == "force-cancelled", job
    assert job["error"] == "terminated: by hand"
    assert job["alert"] == "compensation_failed"
    shown = job["cleanup"]
    assert shown["job_id"] == cleanup_id and shown["status"] == "failed"
    assert shown["alert"] == "compensation_failed"
    assert "Listing refused by policy" in shown["error"]
    [failed] = [entry for entry in shown["steps"] if entry["status"] == "failed"]
    assert failed["step"].endswith(f"({job_id})")
    assert "Listing refused by policy" in failed["error"]
    # The platform's alerting finds the cleanup job; its error names the job it cleaned up after.
    alerted = [
        execution.id
        async for execution in client.list_workflows(
            "ConneskillsLabels = 'alert=compensation_failed'"
        )
    ]
    assert cleanup_id in alerted
    assert cleanup["error"].startswith(f"cleanup after {job_id} left something behind: ")
    await _deleted_eventually(settings, name)


async def _deleted_eventually(settings, name: str) -> None:
    """What the terminated deploy's running apply makes after all, removed by the test."""
    services = CloudRunServices(settings)
    for _ in range(50):
        await asyncio.to_thread(services.force_delete, name)
        await asyncio.sleep(0.2)
        if await asyncio.to_thread(services.get, name) is None:
            return


async def test_the_cleanup_after_a_terminated_runner_removes_its_container_and_registration(
    api, client, localcloud
):
    repo = new_repo(localcloud.url)
    set_job_seconds(localcloud.url, 600)
    try:
        answer = await api.post(
            "/api/v1/runners",
            json={"scope": "repo", "scope_name": repo, "runner_name": "terminated-runner"},
        )
        runner_id = answer.json()["runners"][0]["runner_id"]
        await wait_for_runner(api, runner_id, "running")
        await client.get_workflow_handle(runner_id).terminate(reason="by hand")
        assert len(job_containers(localcloud.url, runner_id)) == 1

        forced = await api.post(f"/api/v1/jobs/{runner_id}/force-cancel")
        assert forced.status_code == 202, forced.text
        cleanup = await wait_for_job(api, forced.json()["cleanup_job_id"], seconds=60)
    finally:
        set_job_seconds(localcloud.url, 2)
    assert cleanup["status"] == "completed", cleanup
    assert any("runner container" in what for what in cleanup["result"]["removed"])
    assert job_containers(localcloud.url, runner_id) == []
    assert repo_runners(localcloud.url, repo) == []
