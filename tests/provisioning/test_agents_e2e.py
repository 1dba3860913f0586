"""AI agents end to end (seed 000 §4): API → DeployAgent / RetireAgent on a real worker → Cloud Run,
Secret Manager and the LiteLLM proxy in the local cloud. The agent's LiteLLM key must never leave
Secret Manager: every flow scans histories, job answers, responses and process logs for it."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import delete

from contracts.provisioning.agents import agent_key_alias
from contracts.provisioning.customers import CustomerNames
from contracts.provisioning.names import AgentSteps, CloudRunSteps
from core.settings import Settings
from providers.google.cloud_run import CloudRunServices
from providers.google.secret_manager import SecretStore
from providers.litellm import litellm_admin
from store.provisioning import service_registry
from store.provisioning.models import Customer
from tests.helpers.customers import BASE, create, new_prefix
from tests.helpers.history import decoded_history_text
from tests.helpers.platform import (
    own_platform,
    recording_admin_client,
    wait_for_job,
    wait_for_pending_activity,
)
from tests.helpers.provisioning import IMAGE, deploy

PROMPT = "researcher-system"
AGENTS = "/api/v1/agents"


@pytest.fixture
async def customer(db, settings) -> AsyncIterator[Customer]:
    prefix = f"ag{uuid.uuid4().hex[:6]}"
    user_id = f"{prefix}-user"
    await litellm_admin(settings).create_user(user_id, user_email=f"{prefix}@example.com")
    async with db.transaction() as session:
        row = Customer(prefix=prefix, name=f"Customer {prefix}", litellm_user_id=user_id)
        session.add(row)
    yield row
    await litellm_admin(settings).delete_users([user_id])
    async with db.transaction() as session:
        await session.execute(delete(Customer).where(Customer.id == row.id))


@pytest.fixture
async def http(api_server, worker) -> AsyncIterator[tuple[httpx.AsyncClient, list[str]]]:
    """An admin client that keeps every response body, for the leak scan."""
    async with recording_admin_client(api_server.url) as recording:
        yield recording


def body(customer: Customer, agent: str, **fields) -> dict:
    return {
        "customer_id": str(customer.id),
        "agent_name": agent,
        "prompt_ref": PROMPT,
        "image": IMAGE,
        "default_model": "gpt-4o",
        **fields,
    }


async def start(api: httpx.AsyncClient, customer: Customer, agent: str, **fields) -> str:
    response = await api.post(f"{AGENTS}/deploy", json=body(customer, agent, **fields))
    assert response.status_code == 202, response.text
    return response.json()["job_id"]


async def secret_value(settings: Settings, name: str) -> str | None:
    store = SecretStore(settings)
    if await asyncio.to_thread(store.get, name) is None:
        return None
    return await asyncio.to_thread(store.access, name)


async def assert_no_leak(api, client, job_ids, value: str, bodies: list[str], capfd) -> None:
    for job_id in job_ids:
        assert value not in await decoded_history_text(client, job_id), "key in history"
        assert value not in (await api.get(f"/api/v1/jobs/{job_id}")).text, "key in the job"
        logs = await api.get(f"/api/v1/jobs/{job_id}/logs", params={"lines": 10000})
        assert value not in logs.text, "key in the job's logs"
    assert not [b for b in bodies if value in b], "key in an API response"
    captured = capfd.readouterr()
    assert value not in captured.out + captured.err, "key in the process logs"


async def test_deploy_get_and_retire_an_agent(http, client, db, settings, customer, capfd):
    api, bodies = http
    name = f"{customer.prefix}-researcher"
    job_id = await start(api, customer, "researcher", allow_public_access=True)
    job = await wait_for_job(api, job_id, seconds=90)
    assert job["status"] == "completed", job
    result = job["result"]
    assert result["service_name"] == name and result["service_url"]
    assert result["agent_name"] == "researcher"
    assert result["customer_id"] == str(customer.id)
    assert result["key_reused"] is False
    child = await wait_for_job(api, result["service_job_id"])
    assert child["status"] == "completed" and child["operation"] == "deploy"

    service = await asyncio.to_thread(CloudRunServices(settings).get, name)
    assert service.labels["conneskills-agent"] == "researcher"
    # The customer's mark, which offboarding requires before it deletes the service.
    assert service.labels["conneskills-customer"] == customer.prefix
    container = service.template.containers[0]
    env = {v.name: v.value for v in container.env if v.value}
    assert env == {
        "AGENT_NAME": "researcher",
        "AGENT_ROLE": "researcher",
        "PROMPT_REF": PROMPT,
        "DEFAULT_MODEL": "gpt-4o",
        "LITELLM_URL": settings.resolved_litellm_agent_url,
        "AGENT_PORT": "9100",
    }
    mounted = {v.name: v.value_source.secret_key_ref.secret for v in container.env if not v.value}
    assert mounted == {"LITELLM_API_KEY": f"{name}-litellm-key"}
    assert service.template.service_account == settings.onboarding_service_account_email
    members = await asyncio.to_thread(CloudRunServices(settings).iam_members, name)
    assert members == ["allUsers"]

    key = await secret_value(settings, f"{name}-litellm-key")
    found = await litellm_admin(settings).find_key_by_alias(name)
    assert key and found is not None
    assert hashlib.sha256(key.encode()).hexdigest() == found.token
    assert found.user_id == customer.litellm_user_id
    async with db.transaction() as session:
        record, owner = await service_registry.with_customer(session, name)
    assert record.labels["conneskills-agent"] == "researcher" and owner.id == customer.id

    got = await api.get(f"{AGENTS}/{name}")
    assert got.status_code == 200, got.text
    assert got.json()["customer_id"] == str(customer.id)
    assert got.json()["agent_name"] == "researcher" and got.json()["status"] == "RUNNING"
    await assert_no_leak(api, client, [job_id, result["service_job_id"]], key, bodies, capfd)

    retired = await api.delete(f"{AGENTS}/{name}")
    assert retired.status_code == 204, retired.text
    assert await asyncio.to_thread(CloudRunServices(settings).get, name) is None
    assert await secret_value(settings, f"{name}-litellm-key") is None
    assert await litellm_admin(settings).find_key_by_alias(name) is None
    assert (await api.get(f"{AGENTS}/{name}")).status_code == 404


async def test_prompts_are_a_bare_array_as_in_the_seed(api):
    response = await api.get(f"{AGENTS}/prompts")
    assert response.status_code == 200, response.text
    prompts = response.json()
    assert isinstance(prompts, list)
    assert PROMPT in {p["prompt_id"] for p in prompts}


async def test_an_unknown_prompt_names_its_field_in_the_usual_list(api, customer):
    answer = await api.post(f"{AGENTS}/deploy", json=body(customer, "b", prompt_ref="nope"))
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"]["fields"] == [{"field": "prompt_ref", "message": "unknown prompt"}]


async def test_refusals_answer_before_any_job_starts(api, client, customer):
    taken = f"{customer.prefix}-taken"
    job = await wait_for_job(api, (await deploy(api, taken))["job_id"])
    assert job["status"] == "completed", job
    try:
        unknown = await api.post(
            f"{AGENTS}/deploy", json={**body(customer, "a"), "customer_id": str(uuid.uuid4())}
        )
        assert unknown.status_code == 404, unknown.text
        exists = await api.post(f"{AGENTS}/deploy", json=body(customer, "taken"))
        assert exists.status_code == 409, exists.text
        no_prompt = await api.post(f"{AGENTS}/deploy", json=body(customer, "b", prompt_ref="nope"))
        assert no_prompt.status_code == 400 and "prompt_ref" in no_prompt.text
        bad = await api.post(f"{AGENTS}/deploy", json=body(customer, "Bad_Name"))
        assert bad.status_code == 400
        # A service that is not an agent is no agent to read or retire.
        assert (await api.get(f"{AGENTS}/{taken}")).status_code == 404
        assert (await api.delete(f"{AGENTS}/{taken}")).status_code == 404
        started = [
            w.id
            async for w in client.list_workflows(
                f"ConneskillsLabels = 'customer={customer.prefix}' "
                "AND ConneskillsOperation IN ('deploy_agent', 'retire_agent')"
            )
        ]
        assert started == []
    finally:
        await api.delete(f"/api/v1/services/{taken}/force")


async def test_a_customer_without_a_litellm_user_gets_no_agent(api, client, db):
    prefix = f"ag{uuid.uuid4().hex[:6]}"
    async with db.transaction() as session:
        row = Customer(prefix=prefix, name=f"Customer {prefix}")
        session.add(row)
    try:
        answer = await api.post(f"{AGENTS}/deploy", json=body(row, "helper"))
        assert answer.status_code == 409, answer.text
        assert answer.json()["error"]["details"]["litellm_user_id"] is None
        jobs = [
            w.id
            async for w in client.list_workflows(
                f"ConneskillsLabels = 'customer={prefix}' AND ConneskillsOperation = 'deploy_agent'"
            )
        ]
        assert jobs == []
    finally:
        async with db.transaction() as session:
            await session.execute(delete(Customer).where(Customer.id == row.id))


async def started(api: httpx.AsyncClient, job_id: str, seconds: float = 30) -> None:
    """Waits until the job exists (a child job is started by its parent, a moment later)."""
    for _ in range(int(seconds / 0.1)):
        if (await api.get(f"/api/v1/jobs/{job_id}")).status_code == 200:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"job {job_id} never started")


@pytest.fixture
def slow_operations(localcloud):
    localcloud.set_lro_delay(3.0)
    yield
    localcloud.set_lro_delay(0.2)
    localcloud.clear_faults()


async def test_cancel_mid_deploy_removes_only_this_jobs_things(
    api, client, settings, customer, slow_operations
):
    name = f"{customer.prefix}-cancelled"
    secret = f"{name}-litellm-key"
    # A secret of that name existed before (holding no live key): it must stay, with its value.
    store = SecretStore(settings)
    await asyncio.to_thread(store.create, secret, "an older value", {"owner": "someone-else"})
    try:
        job_id = await start(api, customer, "cancelled")
        child_id = f"{job_id}-service"
        await started(api, child_id)
        await wait_for_pending_activity(client, child_id, CloudRunSteps.APPLY_SERVICE)
        # The job's key is in the secret by now, as a new version.
        assert await secret_value(settings, secret) != "an older value"

        assert (await api.post(f"/api/v1/jobs/{job_id}/cancel")).status_code == 202
        job = await wait_for_job(api, job_id, seconds=60)
        assert job["status"] == "cancelled", job
        assert (await wait_for_job(api, child_id))["status"] == "cancelled"
        assert await asyncio.to_thread(CloudRunServices(settings).get, name) is None
        assert await litellm_admin(settings).find_key_by_alias(name) is None
        assert await asyncio.to_thread(store.enabled_versions, secret) == ["1"]
        assert await asyncio.to_thread(store.access, secret, "1") == "an older value"
    finally:
        await asyncio.to_thread(store.delete, secret)


async def test_the_cleanup_after_a_terminated_deploy_removes_what_its_child_deploy_made(
    api, client, settings, customer, slow_operations
):
    """The service is made by the child DeployService under the child's job id; terminating the
    agent's job terminates the child too, and the cleanup job runs for both ids."""
    name = f"{customer.prefix}-terminated"
    job_id = await start(api, customer, "terminated")
    child_id = f"{job_id}-service"
    await started(api, child_id)
    await wait_for_pending_activity(client, child_id, CloudRunSteps.APPLY_SERVICE)
    await client.get_workflow_handle(job_id).terminate(reason="by hand")

    forced = await api.post(f"/api/v1/jobs/{job_id}/force-cancel")
    assert forced.status_code == 202, forced.text
    cleanup = await wait_for_job(api, forced.json()["cleanup_job_id"], seconds=90)
    assert cleanup["status"] == "completed", cleanup
    assert f"cloud run service {name}" in cleanup["result"]["removed"], cleanup["result"]
    assert f"litellm key {name}" in cleanup["result"]["removed"], cleanup["result"]
    assert any(child_id in entry["step"] for entry in cleanup["compensation"])
    assert await asyncio.to_thread(CloudRunServices(settings).get, name) is None
    assert await secret_value(settings, f"{name}-litellm-key") is None
    assert await litellm_admin(settings).find_key_by_alias(name) is None


async def test_the_cleanup_after_a_terminated_deploy_destroys_the_version_it_added_to_a_secret(
    api, client, settings, customer, slow_operations
):
    """A secret of the agent's name existed before: the terminated job added its key to it as a
    new version; the cleanup destroys that version (the key it holds is deleted) and leaves the
    secret and its older version, as the compensation of a cancel does."""
    name = f"{customer.prefix}-termsecret"
    secret = f"{name}-litellm-key"
    store = SecretStore(settings)
    await asyncio.to_thread(store.create, secret, "an older value", {"owner": "someone-else"})
    try:
        job_id = await start(api, customer, "termsecret")
        child_id = f"{job_id}-service"
        await started(api, child_id)
        await wait_for_pending_activity(client, child_id, CloudRunSteps.APPLY_SERVICE)
        assert await asyncio.to_thread(store.enabled_versions, secret) == ["2", "1"]
        await client.get_workflow_handle(job_id).terminate(reason="by hand")

        forced = await api.post(f"/api/v1/jobs/{job_id}/force-cancel")
        assert forced.status_code == 202, forced.text
        cleanup = await wait_for_job(api, forced.json()["cleanup_job_id"], seconds=90)
        assert cleanup["status"] == "completed", cleanup
        removed = cleanup["result"]["removed"]
        assert f"secret {secret} version 2" in removed, removed
        assert f"litellm key {name}" in removed, removed
        assert await asyncio.to_thread(store.enabled_versions, secret) == ["1"]
        assert await asyncio.to_thread(store.access, secret, "1") == "an older value"
        assert (await asyncio.to_thread(store.get, secret)).labels == {"owner": "someone-else"}
        assert await litellm_admin(settings).find_key_by_alias(name) is None
        job = (await api.get(f"/api/v1/jobs/{job_id}")).json()
        assert f"secret {secret} version 2" in job["cleanup"]["removed"]
    finally:
        await asyncio.to_thread(store.delete, secret)


async def test_a_reused_key_survives_a_failed_deploy(api, client, settings, customer, localcloud):
    name = f"{customer.prefix}-reuser"
    secret = f"{name}-litellm-key"
    admin = litellm_admin(settings)
    existing = await admin.generate_key(key_alias=name, user_id=customer.litellm_user_id)
    store = SecretStore(settings)
    await asyncio.to_thread(store.create, secret, existing.key, {"owner": "earlier"})
    try:
        unpullable = localcloud.inject_fault(
            fail_next=1,
            method="POST",
            path_contains=f"serviceId={name}",
            operation_error={"code": 3, "message": "Injected: the image cannot be pulled"},
        )
        job_id = await start(api, customer, "reuser")
        job = await wait_for_job(api, job_id, seconds=60)
        assert job["status"] == "failed", job
        assert localcloud.fired(unpullable) == 1
        logs = (await api.get(f"/api/v1/jobs/{job_id}/logs", params={"lines": 200})).text
        assert "reusing the existing key" in logs
        assert await asyncio.to_thread(CloudRunServices(settings).get, name) is None
        kept = await admin.find_key_by_alias(name)
        assert kept is not None and kept.token == existing.token
        assert await asyncio.to_thread(store.access, secret) == existing.key
        history = await decoded_history_text(client, job_id)
        assert existing.key not in history
        assert AgentSteps.REMOVE_JOB_KEY in history
    finally:
        localcloud.clear_faults()
        await admin.delete_keys(key_aliases=[name])
        await asyncio.to_thread(store.delete, secret)


async def test_a_litellm_outage_is_waited_out(api, settings, customer, clean_faults):
    name = f"{customer.prefix}-patient"
    # The key's alias (the agent's name) is only in the body of its create.
    outage = clean_faults.inject_fault(
        fail_next=2, code=503, path_contains="/litellm/key/generate", body_contains=f'"{name}"'
    )
    job_id = await start(api, customer, "patient")
    job = await wait_for_job(api, job_id, seconds=60)
    assert job["status"] == "completed", job
    assert clean_faults.fired(outage) == 2
    assert await litellm_admin(settings).find_key_by_alias(name) is not None
    assert (await api.delete(f"{AGENTS}/{name}")).status_code == 204
    assert await litellm_admin(settings).find_key_by_alias(name) is None


async def test_an_agent_whose_service_was_force_deleted_can_still_be_retired(
    api, settings, customer
):
    name = f"{customer.prefix}-orphan"
    job = await wait_for_job(api, await start(api, customer, "orphan"), seconds=60)
    assert job["status"] == "completed", job
    assert (await api.delete(f"/api/v1/services/{name}/force")).status_code == 204
    assert (await api.get(f"{AGENTS}/{name}")).status_code == 404
    # The service is gone, but its secret and key are the agent's (labelled, marked): retired.
    assert (await api.delete(f"{AGENTS}/{name}")).status_code == 204
    assert await secret_value(settings, f"{name}-litellm-key") is None
    assert await litellm_admin(settings).find_key_by_alias(name) is None
    assert (await api.delete(f"{AGENTS}/{name}")).status_code == 404


async def test_an_agent_deploy_survives_a_killed_worker_and_completes(
    data_dir, temporal_address, localcloud, client, slow_operations
):
    """The worker dies while the agent's Cloud Run service is being created: a new worker takes the
    job up where it was, and it ends with one key, one secret version and the service."""
    async with own_platform(data_dir, temporal_address, localcloud.url) as platform:
        api, settings = platform.api, platform.settings
        prefix = new_prefix()
        created = await create(api, prefix, create_litellm=True)
        assert (await wait_for_job(api, created["job_id"], seconds=60))["status"] == "completed"
        answer = await api.post(
            f"{AGENTS}/deploy",
            json={
                "customer_id": created["id"],
                "agent_name": "sturdy",
                "prompt_ref": PROMPT,
                "image": IMAGE,
                "default_model": "gpt-4o",
            },
        )
        assert answer.status_code == 202, answer.text
        job_id = answer.json()["job_id"]
        await started(api, f"{job_id}-service")
        await wait_for_pending_activity(client, f"{job_id}-service", CloudRunSteps.APPLY_SERVICE)
        platform.kill_worker()
        platform.restart_worker()

        job = await wait_for_job(api, job_id, seconds=90)
        assert job["status"] == "completed", job
        name = f"{prefix}-sturdy"
        service = await asyncio.to_thread(CloudRunServices(settings).get, name)
        assert service is not None and job["result"]["service_url"] == service.uri
        keys = await litellm_admin(settings).list_user_keys(CustomerNames(prefix).litellm_user_id)
        assert [k.key_alias for k in keys if k.key_alias == agent_key_alias(name)] == [
            agent_key_alias(name)
        ]
        store = SecretStore(settings)
        assert await asyncio.to_thread(store.enabled_versions, f"{name}-litellm-key") == ["1"]

        assert (await api.delete(f"{AGENTS}/{name}")).status_code in (202, 204)
        answer = await api.delete(f"{BASE}/{created['id']}")
        assert answer.status_code in (202, 204), answer.text
        if answer.status_code == 202:
            await wait_for_job(api, answer.json()["job_id"], seconds=60)
