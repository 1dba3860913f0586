"""The reference fields of a customer (§3.7): a PUT validates each one and needs the `secrets`
scope to name a secret, and offboarding deletes only what carries the customer's own mark, so a
record pointed at another tenant's resources unlinks them and reports them, never deletes them."""

from __future__ import annotations

import asyncio

import httpx

from contracts.provisioning.customers import CustomerNames
from contracts.provisioning.names import Operations
from providers.google.cloud_run import CloudRunServices
from providers.google.secret_manager import SecretStore
from providers.jira import JiraPortals
from providers.litellm import litellm_admin
from providers.tls import client_context
from temporal import search_attributes as sa
from tests.helpers.customers import BASE, create, new_prefix
from tests.helpers.job_controls import create_key
from tests.helpers.platform import wait_for_job
from tests.helpers.provisioning import deploy


async def jobs_of(client, operation: str, prefix: str) -> list[str]:
    query = f"{sa.OPERATION.name} = '{operation}' AND {sa.LABELS.name} = 'customer={prefix}'"
    return [w.id async for w in client.list_workflows(query)]


async def test_offboarding_a_customer_pointed_at_another_tenant_deletes_nothing_of_it(
    api, settings, client
):
    victim = new_prefix()
    onboarded = await create(api, victim, create_jira_portal=True, create_litellm=True)
    assert (await wait_for_job(api, onboarded["job_id"], seconds=60))["status"] == "completed"
    victim_names = CustomerNames(victim)
    store = SecretStore(settings)
    platform_secret = f"{victim}-platform-token"
    await asyncio.to_thread(store.create, platform_secret, "v", {})
    service = f"{victim}-svc"
    deployed = await deploy(api, service)
    assert (await wait_for_job(api, deployed["job_id"], seconds=60))["status"] == "completed"

    evil = await create(api, new_prefix())
    references = {
        "zenml_workspace_id": service,
        "litellm_api_key_secret": victim_names.litellm_key_secret,
        "zenml_credentials_secret": platform_secret,
        "litellm_user_id": victim_names.litellm_user_id,
        "jira_project_key": victim_names.jira_project_key,
    }
    changed = await api.put(f"{BASE}/{evil['id']}", json=references)
    assert changed.status_code == 200, changed.text
    gone = await api.delete(f"{BASE}/{evil['id']}")
    assert gone.status_code in (202, 204), gone.text

    [job_id] = await jobs_of(client, Operations.OFFBOARD_CUSTOMER, evil["prefix"])
    finished = await wait_for_job(api, job_id, seconds=60)
    assert finished["status"] == "completed", finished
    assert sorted(finished["result"]["not_owned"]) == sorted(
        [
            f"cloud run service {service}",
            f"secret {victim_names.litellm_key_secret}",
            f"secret {platform_secret}",
            f"litellm user {victim_names.litellm_user_id}",
            f"jira project {victim_names.jira_project_key}",
        ]
    )
    assert await asyncio.to_thread(CloudRunServices(settings).get, service) is not None
    assert await asyncio.to_thread(store.exists, victim_names.litellm_key_secret)
    assert await asyncio.to_thread(store.exists, platform_secret)
    admin = litellm_admin(settings)
    assert await admin.user(victim_names.litellm_user_id) is not None
    assert await admin.find_key_by_alias(victim_names.litellm_key_alias) is not None
    jira = JiraPortals(settings)
    assert await asyncio.to_thread(jira.project, victim_names.jira_project_key) is not None
    assert (await api.get(f"{BASE}/{evil['id']}")).status_code == 404
    await asyncio.to_thread(store.delete, platform_secret)


async def test_reference_fields_are_validated_and_a_bad_one_changes_nothing(api, api_server):
    created = await create(api, new_prefix())
    url = f"{BASE}/{created['id']}"
    for bad in (
        {"jira_sd_id": "../../../evil?x=<script>"},
        {"jira_project_key": "not a key"},
        {"zenml_workspace_url": "javascript:alert(1)"},
        {"zenml_workspace_url": "http://plain.example"},
        {"zenml_workspace_id": "Not_A_Service"},
        {"litellm_api_key_secret": "no-such-secret-anywhere"},
        {"zenml_workspace_id": "no-such-service-anywhere"},
        {"litellm_user_id": "customer:no-such-user"},
    ):
        answer = await api.put(url, json={"name": "Changed", **bad})
        assert answer.status_code == 400, (bad, answer.text)
        assert answer.json()["error"]["code"]
    assert (await api.get(url)).json()["name"] == created["name"]

    key = await create_key(api, "read", "write")
    async with httpx.AsyncClient(
        verify=client_context(), base_url=api_server.url, headers={"X-API-Key": key}, timeout=30
    ) as writer:
        refused = await writer.put(url, json={"litellm_api_key_secret": "github-token"})
        assert refused.status_code == 403, refused.text
        assert (await writer.put(url, json={"jira_sd_id": "12"})).status_code == 200
    assert (await api.get(url)).json()["litellm_api_key_secret"] is None
    ok = await api.put(url, json={"zenml_workspace_url": "https://zenml.example/ws"})
    assert ok.status_code == 200, ok.text
