"""Onboarding and offboarding under failure: a ZenML deploy that fails undoes only its branch, a
cancelled onboarding leaves nothing, an offboarding survives its worker being killed."""

from __future__ import annotations

import asyncio
import time

import httpx

from contracts.provisioning.customers import CustomerNames
from providers.google.cloud_run import CloudRunServices
from providers.google.service_accounts import ServiceAccounts
from providers.jira import JiraPortals
from providers.litellm import litellm_admin
from providers.tls import client_context
from tests.helpers.customers import ALL, BASE, create, footprint, new_prefix
from tests.helpers.faults import wait_until_fired
from tests.helpers.platform import (
    ADMIN_KEY,
    ApiServer,
    own_platform,
    wait_for_job,
    wait_for_pending_activity,
)
from tests.helpers.provisioning import IMAGE, deploy


async def test_a_failed_zenml_deploy_leaves_nothing_of_zenml_while_jira_and_litellm_complete(
    api, settings, clean_faults
):
    prefix = new_prefix()
    # The new ZenML service's operation fails: the revision never becomes ready.
    doomed = clean_faults.inject_fault(
        fail_next=1,
        method="POST",
        path_contains=f"serviceId={CustomerNames(prefix).zenml_service}",
        operation_error={"code": 9, "message": "revision failed to become ready"},
    )
    created = await create(api, prefix, **ALL)
    job = await wait_for_job(api, created["job_id"], seconds=90)
    assert job["status"] == "completed", job
    assert clean_faults.fired(doomed) == 1
    branches = job["result"]["provisionings"]
    assert branches["jira"]["status"] == "ready" and branches["litellm"]["status"] == "ready"
    assert branches["zenml"]["status"] == "failed"
    assert "revision failed to become ready" in branches["zenml"]["reason"]
    zenml_job = (await api.get(f"/api/v1/jobs/{branches['zenml']['job_id']}")).json()
    assert zenml_job["status"] == "failed", zenml_job

    record = (await api.get(f"{BASE}/{created['id']}")).json()
    assert record["provisioning"]["zenml"]["status"] == "failed"
    assert "revision failed" in record["provisioning"]["zenml"]["reason"]
    assert record["provisioning"]["jira"]["status"] == "ready"
    assert record["zenml_workspace_id"] is None and record["jira_sd_id"]

    names = CustomerNames(prefix)
    found = await footprint(settings, prefix)
    assert not (found.database or found.db_user or found.zenml_service or found.zenml_account)
    assert found.secrets == [names.litellm_key_secret]
    assert found.jira_project and found.litellm_user and found.litellm_key

    assert (await api.delete(f"{BASE}/{created['id']}")).status_code == 204
    assert (await footprint(settings, prefix)).empty


async def test_a_service_account_that_exists_already_is_refused_and_left_alone(api, settings):
    prefix = new_prefix()
    names = CustomerNames(prefix)
    accounts = ServiceAccounts(settings)
    # Someone made an account by the ZenML server's name: the branch must neither adopt nor
    # delete it.
    email = await asyncio.to_thread(
        accounts.create, names.zenml_service_account, "by hand", "made by an operator"
    )
    created = await create(api, prefix, create_zenml=True)
    job = await wait_for_job(api, created["job_id"], seconds=90)
    assert job["status"] == "completed", job
    zenml = job["result"]["provisionings"]["zenml"]
    assert zenml["status"] == "failed" and "already exists" in zenml["reason"], zenml
    kept = await asyncio.to_thread(accounts.get, email)
    assert kept is not None and kept.description == "made by an operator"
    found = await footprint(settings, prefix)
    assert not (found.secrets or found.database or found.zenml_service)

    assert await asyncio.to_thread(accounts.delete, email)
    assert (await api.delete(f"{BASE}/{created['id']}")).status_code == 204
    assert (await footprint(settings, prefix)).empty


async def test_a_service_by_the_zenml_servers_name_is_refused_and_left_alone(api, settings):
    prefix = new_prefix()
    service = CustomerNames(prefix).zenml_service
    # Someone else's service holds the name: the branch must neither update nor delete it.
    made = await deploy(api, service, labels={"team": "someone-else"})
    assert (await wait_for_job(api, made["job_id"], seconds=60))["status"] == "completed"

    created = await create(api, prefix, create_zenml=True)
    job = await wait_for_job(api, created["job_id"], seconds=90)
    assert job["status"] == "completed", job
    zenml = job["result"]["provisionings"]["zenml"]
    assert zenml["status"] == "failed" and f"service {service} already exists" in zenml["reason"]
    kept = await asyncio.to_thread(CloudRunServices(settings).get, service)
    assert kept.labels.get("team") == "someone-else"
    assert kept.template.containers[0].image == IMAGE
    found = await footprint(settings, prefix)
    assert not (found.secrets or found.database or found.zenml_account)

    assert (await api.delete(f"{BASE}/{created['id']}")).status_code == 204
    assert await asyncio.to_thread(CloudRunServices(settings).get, service) is not None
    gone = await api.delete(f"/api/v1/services/{service}")
    assert gone.status_code in (200, 202, 204), gone.text


async def _wait_started(api, job_id: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while (await api.get(f"/api/v1/jobs/{job_id}")).status_code == 404:
        assert time.monotonic() < deadline, f"{job_id} never started"
        await asyncio.sleep(0.1)


async def _wait_completed(api, job_id: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        answer = await api.get(f"/api/v1/jobs/{job_id}")
        if answer.status_code == 200 and answer.json()["status"] == "completed":
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{job_id} did not complete")


async def test_cancelling_an_onboarding_mid_way_leaves_nothing_of_it(
    api, settings, client, clean_faults
):
    prefix = new_prefix()
    # The ZenML server's deploy hangs a while: Jira and LiteLLM finish, ZenML has its database.
    slow = clean_faults.inject_fault(
        fail_next=0,
        code=None,
        latency_ms=3000,
        method="POST",
        path_contains=f"serviceId={CustomerNames(prefix).zenml_service}",
    )
    created = await create(api, prefix, **ALL)
    job_id = created["job_id"]
    await _wait_completed(api, f"{job_id}-jira")
    await _wait_completed(api, f"{job_id}-litellm")
    await wait_for_pending_activity(client, f"{job_id}-zenml-deploy", "cloud_run.apply_service")
    assert await wait_until_fired(clean_faults, slow) >= 1
    assert (await footprint(settings, prefix)).database

    assert (await api.post(f"/api/v1/jobs/{job_id}/cancel")).status_code in (200, 202)
    job = await wait_for_job(api, job_id, seconds=90)
    assert job["status"] == "cancelled", job
    for branch in ("jira", "litellm", "zenml"):
        child = (await api.get(f"/api/v1/jobs/{job_id}-{branch}")).json()
        assert child["status"] in ("completed", "cancelled"), child
    assert (await footprint(settings, prefix)).empty
    assert (await api.get(f"{BASE}/{created['id']}")).status_code == 404
    assert (await api.get(f"{BASE}/prefix/{prefix}")).status_code == 404


async def test_offboarding_survives_a_killed_worker_and_completes(
    data_dir, temporal_address, localcloud, client
):
    overrides = {"customer_offboard_wait_seconds": 0.5}
    async with own_platform(data_dir, temporal_address, localcloud.url, overrides) as platform:
        api, settings = platform.api, platform.settings
        prefix = new_prefix()
        created = await create(api, prefix, create_jira_portal=True, create_litellm=True)
        assert (await wait_for_job(api, created["job_id"], seconds=60))["status"] == "completed"

        project = CustomerNames(prefix).jira_project_key
        slow = localcloud.inject_fault(
            fail_next=0,
            code=None,
            latency_ms=2000,
            method="DELETE",
            path_contains=f"/jira/rest/api/2/project/{project}",
        )
        try:
            answer = await api.delete(f"{BASE}/{created['id']}")
            assert answer.status_code == 202, answer.text
            job_id = answer.json()["job_id"]
            await wait_for_pending_activity(client, job_id, "customer_jira.remove")
            # Killed while the project's deletion is held.
            await wait_until_fired(localcloud, slow)
            platform.kill_worker()
            platform.restart_worker()
        finally:
            localcloud.clear_faults()
        job = await wait_for_job(api, job_id, seconds=90)
        assert job["status"] == "completed", job
        assert (await footprint(settings, prefix)).empty
        assert (await api.get(f"{BASE}/{created['id']}")).status_code == 404


async def test_cancelling_one_branch_fails_only_that_branch(api, settings, client, clean_faults):
    prefix = new_prefix()
    slow = clean_faults.inject_fault(
        fail_next=0,
        code=None,
        latency_ms=2000,
        method="POST",
        path_contains=f"serviceId={CustomerNames(prefix).zenml_service}",
    )
    created = await create(api, prefix, **ALL)
    job_id = created["job_id"]
    await _wait_started(api, f"{job_id}-zenml-deploy")
    await wait_for_pending_activity(client, f"{job_id}-zenml-deploy", "cloud_run.apply_service")
    await wait_until_fired(clean_faults, slow)
    assert (await api.post(f"/api/v1/jobs/{job_id}-zenml/cancel")).status_code in (200, 202)
    job = await wait_for_job(api, job_id, seconds=90)
    assert job["status"] == "completed", job
    branches = job["result"]["provisionings"]
    assert branches["zenml"]["status"] == "failed"
    assert "cancel" in branches["zenml"]["reason"].lower()
    assert branches["jira"]["status"] == branches["litellm"]["status"] == "ready"
    found = await footprint(settings, prefix)
    assert not (found.database or found.zenml_service or found.zenml_account)
    assert found.jira_project
    assert found.secrets == [CustomerNames(prefix).litellm_key_secret]
    assert (await api.delete(f"{BASE}/{created['id']}")).status_code == 204
    assert (await footprint(settings, prefix)).empty


async def test_offboarding_finishes_when_parts_are_already_gone(api, settings):
    prefix = new_prefix()
    names = CustomerNames(prefix)
    created = await create(api, prefix, create_jira_portal=True, create_litellm=True)
    assert (await wait_for_job(api, created["job_id"], seconds=60))["status"] == "completed"
    # Someone removed the project and the user by hand before the offboarding.
    assert await asyncio.to_thread(JiraPortals(settings).delete_project, names.jira_project_key)
    assert await litellm_admin(settings).delete_users([names.litellm_user_id])
    assert (await api.delete(f"{BASE}/{created['id']}")).status_code == 204
    assert (await footprint(settings, prefix)).empty


async def test_a_force_cancelled_onboarding_is_cleaned_up_by_the_cleanup_job(
    settings, client, worker, clean_faults
):
    prefix = new_prefix()
    cooloff = 4.0
    zenml_service = CustomerNames(prefix).zenml_service
    slow_create = clean_faults.inject_fault(
        fail_next=0,
        code=None,
        latency_ms=3000,
        method="POST",
        path_contains=f"serviceId={zenml_service}",
    )
    quick = settings.model_copy(update={"job_force_cancel_cooloff_seconds": cooloff})
    with ApiServer(quick) as server:
        async with httpx.AsyncClient(
            verify=client_context(),
            base_url=server.url,
            headers={"X-API-Key": ADMIN_KEY},
            timeout=30,
        ) as api:
            created = await create(api, prefix, **ALL)
            job_id = created["job_id"]
            await _wait_completed(api, f"{job_id}-jira")
            await _wait_completed(api, f"{job_id}-litellm")
            deploy = f"{job_id}-zenml-deploy"
            await wait_for_pending_activity(client, deploy, "cloud_run.apply_service")
            await wait_until_fired(clean_faults, slow_create)
            # The deploy's undo (deleting the new service) hangs: the graceful cancel cannot end.
            hung_delete = clean_faults.inject_fault(
                fail_next=1,
                code=None,
                latency_ms=9000,
                method="DELETE",
                path_contains=f"/services/{zenml_service}",
            )
            assert (await api.post(f"/api/v1/jobs/{job_id}/cancel")).status_code == 202
            cancelled_at = time.monotonic()
            await wait_for_pending_activity(client, deploy, "cloud_run.delete_service")
            # The delete's attempt is the one held (it reads the service first).
            assert await wait_until_fired(clean_faults, hung_delete) == 1
            await asyncio.sleep(max(0.0, cancelled_at + cooloff + 0.5 - time.monotonic()))
            forced = await api.post(f"/api/v1/jobs/{job_id}/force-cancel", json={"comment": "t"})
            assert forced.status_code == 202, forced.text
            cleanup = await wait_for_job(api, forced.json()["cleanup_job_id"], seconds=60)
            assert cleanup["status"] == "completed", cleanup
            removed = cleanup["result"]["removed"]
            assert f"customer record {prefix}" in removed
            assert f"cloud run service {prefix}-zenml" in removed
            assert f"service account zenml-{prefix}" in removed
            assert (await api.get(f"{BASE}/{created['id']}")).status_code == 404
    assert (await footprint(settings, prefix)).empty


async def test_cancelling_while_the_litellm_key_is_slow_leaves_no_zenml_account(
    api, settings, clean_faults
):
    prefix = new_prefix()
    # The LiteLLM key takes 5 s: the cancel comes while ZenML's steps are in flight. The key's
    # alias is only in the body of its create.
    slow = clean_faults.inject_fault(
        fail_next=0,
        code=None,
        latency_ms=5000,
        method="POST",
        path_contains="/litellm/key/generate",
        body_contains=f'"{CustomerNames(prefix).litellm_key_alias}"',
    )
    created = await create(api, prefix, **ALL)
    job_id = created["job_id"]
    await asyncio.sleep(2.5)
    assert await wait_until_fired(clean_faults, slow) == 1
    started = time.monotonic()
    assert (await api.post(f"/api/v1/jobs/{job_id}/cancel")).status_code in (200, 202)
    job = await wait_for_job(api, job_id, seconds=90)
    assert job["status"] == "cancelled", job
    zenml = (await api.get(f"/api/v1/jobs/{job_id}-zenml")).json()
    assert zenml["status"] in ("completed", "cancelled"), zenml
    # Whatever was in flight at the cancel has ended by now: nothing of it may appear late.
    await asyncio.sleep(max(0.0, started + 5.5 - time.monotonic()))
    found = await footprint(settings, prefix)
    assert not found.zenml_account, zenml
    assert found.empty, found

    clean_faults.clear_faults()
    again = await create(api, prefix, create_zenml=True)
    job = await wait_for_job(api, again["job_id"], seconds=90)
    assert job["result"]["provisionings"]["zenml"]["status"] == "ready", job
    assert (await api.delete(f"{BASE}/{again['id']}")).status_code == 204
    assert (await footprint(settings, prefix)).empty
