"""OnboardCustomer end to end: API → parent job → three child jobs on a real worker → the Jira and
LiteLLM emulators, Secret Manager and Cloud Run in the local cloud, and the real MariaDB."""

from __future__ import annotations

import asyncio

import aiomysql

from contracts.provisioning.customers import CustomerNames
from providers.google.secret_manager import SecretStore
from providers.litellm import litellm_admin
from tests.helpers.customers import ALL, BASE, create, footprint, new_prefix
from tests.helpers.platform import wait_for_job

ALL_BRANCHES = ("jira", "litellm", "zenml")


async def test_onboarding_with_all_three_creates_every_object_and_records_every_id(
    api, settings, client
):
    prefix = new_prefix()
    names = CustomerNames(prefix)
    created = await create(api, prefix, **ALL, zenml_organization_id="org-1")
    assert created["provisioning"] == {
        "jira": {"status": "pending", "reason": None},
        "litellm": {"status": "pending", "reason": None},
        "zenml": {"status": "pending", "reason": None},
    }
    job = await wait_for_job(api, created["job_id"], seconds=90)
    assert job["status"] == "completed", job
    children = job["result"]["provisionings"]
    assert {b: c["status"] for b, c in children.items()} == dict.fromkeys(ALL_BRANCHES, "ready")
    for branch, child in children.items():
        assert child["job_id"] == f"{created['job_id']}-{branch}"
        assert (await api.get(f"/api/v1/jobs/{child['job_id']}")).json()["status"] == "completed"

    record = (await api.get(f"{BASE}/{created['id']}")).json()
    assert {b: s["status"] for b, s in record["provisioning"].items()} == {
        "jira": "ready",
        "litellm": "ready",
        "zenml": "ready",
    }
    assert record["jira_project_key"] == names.jira_project_key
    for field in ("jira_project_id", "jira_sd_id", "jira_group_id", "zenml_workspace_url"):
        assert record[field], field
    assert record["litellm_user_id"] == names.litellm_user_id
    assert record["litellm_api_key_secret"] == names.litellm_key_secret
    assert record["zenml_workspace_id"] == names.zenml_service
    assert record["zenml_credentials_secret"] == names.zenml_admin_password_secret

    found = await footprint(settings, prefix)
    assert found.jira_project and found.jira_organization
    assert found.litellm_user and found.litellm_key
    assert sorted(found.secrets) == sorted([names.litellm_key_secret, *names.zenml_secrets])
    assert found.database and found.db_user and found.zenml_service

    # The stored key is the proxy's key of this customer; the store URL opens its database.
    store = SecretStore(settings)
    key = await asyncio.to_thread(store.access, names.litellm_key_secret)
    assert (await litellm_admin(settings).find_key_by_alias(names.litellm_key_alias)) is not None
    url = await asyncio.to_thread(store.access, names.zenml_store_url_secret)
    user, password = url.split("://")[1].split("@")[0].split(":")
    conn = await aiomysql.connect(
        host="127.0.0.1", user=user, password=password, db=names.zenml_database
    )
    conn.close()

    portal = (await api.get(f"{BASE}/{created['id']}/portal")).json()
    assert portal["portal_url"].endswith(f"/servicedesk/customer/portal/{record['jira_sd_id']}")
    services = (await api.get(f"{BASE}/{created['id']}/services")).json()["services"]
    assert [s["name"] for s in services] == [names.zenml_service]

    # Offboarding removes all of it, then the record.
    deleted = await api.delete(f"{BASE}/{created['id']}")
    assert deleted.status_code == 204, deleted.text
    assert (await footprint(settings, prefix)).empty
    assert (await api.get(f"{BASE}/{created['id']}")).status_code == 404
    for text in (created, job, record):
        assert key not in str(text) and password not in str(text)
