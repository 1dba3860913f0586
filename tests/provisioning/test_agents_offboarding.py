"""Agents and their customer's offboarding never race: a deploy asked for while the customer is
being offboarded is refused, and one already under way either registers before offboarding lists
the customer's agents or fails and undoes itself. Either way no agent, secret or key is left
behind without its owner."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from contracts.provisioning.agents import agent_key_alias, agent_secret_name
from contracts.provisioning.customers import CustomerNames
from contracts.provisioning.names import Workflows
from providers.google.cloud_run import CloudRunServices
from providers.google.secret_manager import SecretStore
from providers.litellm import litellm_admin
from store.provisioning import service_registry
from temporal import search_attributes as sa
from tests.helpers.customers import BASE, create, footprint, new_prefix
from tests.helpers.platform import wait_for_job, wait_for_pending_activity
from tests.helpers.provisioning import IMAGE

AGENTS = "/api/v1/agents"


def deploy_body(customer_id: str, agent: str) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "agent_name": agent,
        "prompt_ref": "researcher-system",
        "image": IMAGE,
        "default_model": "gpt-4o",
    }


async def onboarded(api) -> dict[str, Any]:
    created = await create(api, new_prefix(), create_jira_portal=True, create_litellm=True)
    assert (await wait_for_job(api, created["job_id"], seconds=60))["status"] == "completed"
    return created


def slow_jira_removal(localcloud, prefix: str) -> None:
    """Offboarding then sits at its Jira step, after it deactivated the customer and listed its
    agents; only this customer's project is slowed (the local cloud is shared)."""
    key = CustomerNames(prefix).jira_project_key
    localcloud.inject_fault(
        fail_next=0, code=None, latency_ms=4000, method="DELETE", path_contains=f"project/{key}"
    )


async def wait_inactive(api, customer_id: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while (await api.get(f"{BASE}/{customer_id}")).json().get("active") is not False:
        assert time.monotonic() < deadline, "offboarding never deactivated the customer"
        await asyncio.sleep(0.1)


async def offboarding_result(client, prefix: str, seconds: float = 60) -> dict[str, Any]:
    query = (
        f"WorkflowType = '{Workflows.OFFBOARD_CUSTOMER}' AND "
        f"{sa.SUBJECT.name} = 'customer:{prefix}'"
    )
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = [w.id async for w in client.list_workflows(query)]
        if found:
            return await client.get_workflow_handle(found[0]).result()
        await asyncio.sleep(0.2)
    raise AssertionError(f"no offboarding of {prefix} found")


async def assert_nothing_left(settings, db, name: str) -> None:
    assert await asyncio.to_thread(CloudRunServices(settings).get, name) is None, "service left"
    secret = agent_secret_name(name)
    assert await asyncio.to_thread(SecretStore(settings).get, secret) is None, "secret left"
    key = await litellm_admin(settings).find_key_by_alias(agent_key_alias(name))
    assert key is None, "LiteLLM key left"
    async with db.transaction() as session:
        record, _owner = await service_registry.with_customer(session, name)
    assert record is None, "registry row left"


async def test_an_agent_deploy_during_offboarding_is_refused_and_nothing_is_left(
    api, settings, db, client, clean_faults
):
    created = await onboarded(api)
    prefix = created["prefix"]
    slow_jira_removal(clean_faults, prefix)
    offboarding = asyncio.create_task(api.delete(f"{BASE}/{created['id']}"))
    await wait_inactive(api, created["id"])

    answer = await api.post(f"{AGENTS}/deploy", json=deploy_body(created["id"], "late"))
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"]["details"]["active"] is False

    assert (await offboarding).status_code in (202, 204)
    result = await offboarding_result(client, prefix)
    assert result["agents_retired"] == []
    await assert_nothing_left(settings, db, f"{prefix}-late")
    assert (await footprint(settings, prefix)).empty


async def test_an_agent_deploy_under_way_when_offboarding_starts_undoes_itself(
    api, settings, db, client, clean_faults
):
    created = await onboarded(api)
    prefix = created["prefix"]
    name = f"{prefix}-early"
    # The agent's Cloud Run create is held until offboarding has deactivated the customer and
    # listed its agents (none registered yet): the deploy then reaches its registry write late.
    clean_faults.inject_fault(
        fail_next=1,
        code=None,
        latency_ms=6000,
        method="POST",
        path_contains=f"serviceId={name}",
    )
    slow_jira_removal(clean_faults, prefix)
    answer = await api.post(f"{AGENTS}/deploy", json=deploy_body(created["id"], "early"))
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["job_id"]
    await wait_for_pending_activity(client, f"{job_id}-service", "cloud_run.apply_service")

    offboarding = asyncio.create_task(api.delete(f"{BASE}/{created['id']}"))
    job = await wait_for_job(api, job_id, seconds=90)
    assert job["status"] == "failed", job
    assert "being offboarded" in job["error"], job
    assert (await offboarding).status_code in (202, 204)
    result = await offboarding_result(client, prefix)
    assert result["agents_retired"] == []
    await assert_nothing_left(settings, db, name)
    assert (await footprint(settings, prefix)).empty
