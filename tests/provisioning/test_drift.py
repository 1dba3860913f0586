"""Drift and conditions: a change made to a deployed service behind the platform's back (straight
on the local cloud's Cloud Run API, with the official client) is reported by the next observation
(the schedule triggered through Temporal's API), raises one `resource_drifted` alert, and
`POST /services/{name}/reconcile` puts the applied configuration back."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import delete
from temporalio.client import Client

from contracts.provisioning.drift import SERVICE_KIND
from providers.google.cloud_run import CloudRunServices
from providers.google.cloud_run_spec import MANAGED_BY_LABEL
from providers.litellm import litellm_admin
from providers.tls import client_context
from store.oversight import resource_states
from store.provisioning.models import Customer
from tests.helpers import drift
from tests.helpers.drift import OTHER_IMAGE, change_behind_the_platforms_back, condition, observe
from tests.helpers.platform import unique_name, wait_for_job
from tests.helpers.provisioning import IMAGE, deploy


async def observed(api: httpx.AsyncClient, name: str, after: str | None, seconds: float = 30):
    return await drift.observed(api, f"/api/v1/services/{name}", after, seconds)


async def drift_alerts(api: httpx.AsyncClient, name: str) -> list[dict]:
    response = await api.get("/api/v1/alerts", params={"kind": "resource_drifted", "limit": 200})
    assert response.status_code == 200, response.text
    return [a for a in response.json()["items"] if a["resource"] == f"service/{name}"]


async def test_a_change_made_outside_is_reported_and_reconcile_puts_the_applied_back(
    api, client: Client, settings
):
    name = unique_name("drift")
    job = await deploy(api, name, env_vars={"A": "1", "B": "2"}, secrets={"TOKEN": "tok-a:1"})
    assert (await wait_for_job(api, job["job_id"]))["status"] == "completed"

    await observe(client, settings)
    synced = await observed(api, name, None)
    assert condition(synced, "Synced")["status"] == "True"
    assert condition(synced, "Drifted")["status"] == "False"
    assert condition(synced, "Ready")["status"] == "True"
    assert synced["drift"] == []
    ready_since = condition(synced, "Ready")["last_transition_time"]

    await asyncio.to_thread(change_behind_the_platforms_back, settings, name)
    await observe(client, settings)
    drifted = await observed(api, name, synced["observed_at"])
    assert condition(drifted, "Drifted")["status"] == "True"
    assert condition(drifted, "Synced")["status"] == "False"
    # Ready did not change status: its transition time stays.
    assert condition(drifted, "Ready")["last_transition_time"] == ready_since
    assert {d["field"]: (d["applied"], d["live"]) for d in drifted["drift"]} == {
        "image": (IMAGE, OTHER_IMAGE),
        "env.A": ("1", "changed"),
        "env.EXTRA": (None, "x"),
        # Secret references by name only: the platform never reads a value to compare.
        "secrets.TOKEN": ("tok-a:1", "tok-b:2"),
    }
    listed = (await api.get("/api/v1/services")).json()["services"]
    assert next(s for s in listed if s["name"] == name)["drift"] == drifted["drift"]

    alerts = await drift_alerts(api, name)
    assert len(alerts) == 1 and alerts[0]["status"] == "open", alerts
    assert "image" in alerts[0]["message"] and alerts[0]["job_url"] is None
    # A drift alert is found by its own key (`drift:<kind>/<name>:<digest>`), as a job's by its id.
    by_key = await api.get("/api/v1/alerts", params={"job_id": alerts[0]["job_id"]})
    assert by_key.status_code == 200, by_key.text
    assert [a["id"] for a in by_key.json()["items"]] == [alerts[0]["id"]]
    # The same drift seen again raises nothing more, and keeps its transition time.
    await observe(client, settings)
    again = await observed(api, name, drifted["observed_at"])
    drifted_since = condition(drifted, "Drifted")["last_transition_time"]
    assert condition(again, "Drifted")["last_transition_time"] == drifted_since
    assert len(await drift_alerts(api, name)) == 1

    started = await api.post(f"/api/v1/services/{name}/reconcile")
    assert started.status_code == 202, started.text
    assert started.json()["job_id"].startswith("reconcile-")
    done = await wait_for_job(api, started.json()["job_id"])
    assert done["status"] == "completed", done
    assert set(done["result"]["reapplied_fields"]) == {
        "image",
        "env.A",
        "env.EXTRA",
        "secrets.TOKEN",
    }

    live = await asyncio.to_thread(CloudRunServices(settings).get, name)
    container = live.template.containers[0]
    assert container.image == IMAGE
    assert {v.name: v.value for v in container.env if not v.value_source.secret_key_ref.secret} == {
        "A": "1",
        "B": "2",
    }
    refs = {v.name: v.value_source.secret_key_ref for v in container.env}
    assert (refs["TOKEN"].secret, refs["TOKEN"].version) == ("tok-a", "1")
    await observe(client, settings)
    back = await observed(api, name, again["observed_at"])
    assert condition(back, "Synced")["status"] == "True"
    assert condition(back, "Drifted")["status"] == "False"
    assert back["drift"] == []
    assert [a["status"] for a in await drift_alerts(api, name)] == ["resolved"]


async def test_reconcile_refuses_unknown_services_and_keys_without_write(api, api_server):
    unknown = await api.post(f"/api/v1/services/{unique_name('nope')}/reconcile")
    assert unknown.status_code == 404, unknown.text
    assert unknown.json()["error"]["code"] == "not_found"

    name = unique_name("drift-keys")
    job = await deploy(api, name)
    assert (await wait_for_job(api, job["job_id"]))["status"] == "completed"
    for scopes in (["crm"], ["read"]):
        created = await api.post("/api/v1/api-keys", json={"name": "drift", "scopes": scopes})
        assert created.status_code == 201, created.text
        async with httpx.AsyncClient(
            verify=client_context(),
            base_url=api_server.url,
            headers={"X-API-Key": created.json()["key"]},
            timeout=30,
        ) as other:
            refused = await other.post(f"/api/v1/services/{name}/reconcile")
            assert refused.status_code == 403, refused.text
            assert refused.json()["error"]["code"] == "forbidden"


async def test_a_service_that_lost_the_platforms_mark_is_neither_compared_nor_reconciled(
    api, client: Client, settings, db
):
    name = unique_name("unmarked")
    job = await deploy(api, name)
    assert (await wait_for_job(api, job["job_id"]))["status"] == "completed"

    def unmark() -> None:
        cloud = CloudRunServices(settings)
        service = cloud.get(name)
        del service.labels[MANAGED_BY_LABEL]
        service.template.containers[0].image = OTHER_IMAGE
        cloud.client.update_service(service=service, retry=None).result(timeout=60)

    await asyncio.to_thread(unmark)
    await observe(client, settings)
    seen = await observed(api, name, None)
    assert condition(seen, "Synced") | {"last_transition_time": None} == {
        "type": "Synced",
        "status": "False",
        "reason": "NotManaged",
        "message": condition(seen, "Synced")["message"],
        "last_transition_time": None,
    }
    assert seen["drift"] == [] and await drift_alerts(api, name) == []

    refused = await api.post(f"/api/v1/services/{name}/reconcile")
    assert refused.status_code == 409, refused.text
    live = await asyncio.to_thread(CloudRunServices(settings).get, name)
    assert live.template.containers[0].image == OTHER_IMAGE

    # Gone from the registry, gone from observation: nothing is left to report as deleted.
    assert (await api.delete(f"/api/v1/services/{name}/force")).status_code == 204
    async with db.transaction() as session:
        assert await resource_states.get(session, SERVICE_KIND, name) is None


@pytest.fixture
async def customer(db, settings) -> AsyncIterator[Customer]:
    prefix = f"dr{uuid.uuid4().hex[:6]}"
    user_id = f"{prefix}-user"
    await litellm_admin(settings).create_user(user_id, user_email=f"{prefix}@example.com")
    async with db.transaction() as session:
        row = Customer(prefix=prefix, name=f"Customer {prefix}", litellm_user_id=user_id)
        session.add(row)
    yield row
    await litellm_admin(settings).delete_users([user_id])
    async with db.transaction() as session:
        await session.execute(delete(Customer).where(Customer.id == row.id))


async def test_an_agents_service_changed_outside_shows_its_drift_until_reconciled(
    api, client: Client, settings, customer: Customer
):
    body = {
        "customer_id": str(customer.id),
        "agent_name": "scout",
        "prompt_ref": "researcher-system",
        "image": IMAGE,
        "default_model": "gpt-4o",
    }
    started = await api.post("/api/v1/agents/deploy", json=body)
    assert started.status_code == 202, started.text
    job = await wait_for_job(api, started.json()["job_id"], seconds=90)
    assert job["status"] == "completed", job
    name = job["result"]["service_name"]

    def change_role() -> None:
        cloud = CloudRunServices(settings)
        service = cloud.get(name)
        for var in service.template.containers[0].env:
            if var.name == "AGENT_ROLE":
                var.value = "impostor"
        cloud.client.update_service(service=service, retry=None).result(timeout=60)

    await asyncio.to_thread(change_role)
    await observe(client, settings)
    await observed(api, name, None)
    agent = (await api.get(f"/api/v1/agents/{name}")).json()
    assert condition(agent, "Drifted")["status"] == "True"
    assert agent["drift"] == [{"field": "env.AGENT_ROLE", "applied": "scout", "live": "impostor"}]
    # The agent's key is mounted by reference: the drift never reads or shows it.
    assert "LITELLM_API_KEY" not in str(agent["drift"])

    reconcile = await api.post(f"/api/v1/services/{name}/reconcile")
    assert reconcile.status_code == 202, reconcile.text
    assert (await wait_for_job(api, reconcile.json()["job_id"]))["status"] == "completed"
    agent = (await api.get(f"/api/v1/agents/{name}")).json()
    assert condition(agent, "Synced")["status"] == "True" and agent["drift"] == []
    assert (await api.delete(f"/api/v1/agents/{name}")).status_code == 204
