"""OnboardCustomer end to end: API → parent job → three child jobs on a real worker → the Jira and
LiteLLM emulators, Secret Manager and Cloud Run in the local cloud, and the real MariaDB. Then
OffboardCustomer removes all of it. No key, password or token shows in any history, answer or log."""

from __future__ import annotations

import asyncio
import base64

import aiomysql

from contracts.provisioning.customers import CustomerNames
from providers.google.cloud_run import CloudRunServices
from providers.google.secret_manager import SecretStore
from providers.google.service_accounts import ServiceAccounts
from providers.jira import JiraPortals
from providers.litellm import litellm_admin
from tests.helpers.customers import ALL, BASE, create, footprint, new_prefix
from tests.helpers.history import decoded_history_text
from tests.helpers.platform import wait_for_job
from tests.helpers.provisioning import IMAGE

ALL_BRANCHES = ("jira", "litellm", "zenml")


async def secret_values(settings, names: CustomerNames) -> list[str]:
    store = SecretStore(settings)
    secrets = [names.litellm_key_secret, *names.zenml_secrets]
    return [await asyncio.to_thread(store.access, name) for name in secrets]


def sensitive(settings, values: list[str]) -> list[str]:
    """The generated values, the MySQL password inside the store URL, and the Jira token (as is
    and inside its Basic header)."""
    url = values[1]
    password = url.split("://")[1].split("@")[0].split(":")[1]
    token = settings.jira_api_token.get_secret_value()
    basic = base64.b64encode(f"{settings.jira_email}:{token}".encode()).decode()
    return [*values, password, token, basic]


async def test_onboarding_with_all_three_creates_every_object_and_records_every_id(
    api, settings, client, capfd
):
    prefix = new_prefix()
    names = CustomerNames(prefix)
    created = await create(api, prefix, **ALL, zenml_organization_id="org-1")
    assert created["provisioning"] == dict.fromkeys(
        ALL_BRANCHES, {"status": "pending", "reason": None}
    )
    job = await wait_for_job(api, created["job_id"], seconds=90)
    assert job["status"] == "completed", job
    children = job["result"]["provisionings"]
    assert {b: c["status"] for b, c in children.items()} == dict.fromkeys(ALL_BRANCHES, "ready")
    job_ids = [created["job_id"], f"{created['job_id']}-zenml-deploy"]
    for branch, child in children.items():
        assert child["job_id"] == f"{created['job_id']}-{branch}"
        assert (await api.get(f"/api/v1/jobs/{child['job_id']}")).json()["status"] == "completed"
        job_ids.append(child["job_id"])

    record = (await api.get(f"{BASE}/{created['id']}")).json()
    assert {b: s["status"] for b, s in record["provisioning"].items()} == dict.fromkeys(
        ALL_BRANCHES, "ready"
    )
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
    assert found.database and found.db_user and found.zenml_service and found.zenml_account

    # The server runs as its own account, which may read its four secrets (and, being new, nothing
    # else); no other customer's secret names it.
    email = names.zenml_service_account_email(settings.gcp_project)
    account = await asyncio.to_thread(ServiceAccounts(settings).get, email)
    assert account is not None and account.made_by(children["zenml"]["job_id"])
    server = await asyncio.to_thread(CloudRunServices(settings).get, names.zenml_service)
    assert server.template.service_account == email
    store = SecretStore(settings)
    for name in names.zenml_secrets:
        assert await asyncio.to_thread(store.accessors, name) == [f"serviceAccount:{email}"]
    assert await asyncio.to_thread(store.accessors, names.litellm_key_secret) == []

    # The stored key is a live key of the proxy; the store URL opens the customer's database.
    values = await secret_values(settings, names)
    key_info = await litellm_admin(settings).find_key_by_alias(names.litellm_key_alias)
    assert key_info is not None and key_info.user_id == names.litellm_user_id
    user, password = values[1].split("://")[1].split("@")[0].split(":")
    conn = await aiomysql.connect(
        host="127.0.0.1", user=user, password=password, db=names.zenml_database
    )
    conn.close()

    portal = (await api.get(f"{BASE}/{created['id']}/portal")).json()
    assert portal["portal_url"] == (
        f"{settings.resolved_jira_base_url}/servicedesk/customer/portal/{record['jira_sd_id']}"
    )
    services = (await api.get(f"{BASE}/{created['id']}/services")).json()["services"]
    assert [s["name"] for s in services] == [names.zenml_service]

    # An agent of the customer, on the LiteLLM user onboarding made.
    agent = await api.post(
        "/api/v1/agents/deploy",
        json={
            "customer_id": created["id"],
            "agent_name": "helper",
            "prompt_ref": "researcher-system",
            "image": IMAGE,
            "default_model": "gpt-4o",
        },
    )
    assert agent.status_code == 202, agent.text
    agent_job = await wait_for_job(api, agent.json()["job_id"], seconds=60)
    assert agent_job["status"] == "completed", agent_job
    agent_service, agent_secret = f"{prefix}-helper", f"{prefix}-helper-litellm-key"
    assert await asyncio.to_thread(SecretStore(settings).exists, agent_secret)

    # Offboarding removes all of it (the agent through its RetireAgent job), then the record.
    deleted = await api.delete(f"{BASE}/{created['id']}")
    assert deleted.status_code == 204, deleted.text
    assert (await footprint(settings, prefix)).empty
    assert await asyncio.to_thread(CloudRunServices(settings).get, agent_service) is None
    assert not await asyncio.to_thread(SecretStore(settings).exists, agent_secret)
    assert await litellm_admin(settings).find_key_by_alias(agent_service) is None
    assert (await api.get(f"{BASE}/{created['id']}")).status_code == 404

    histories = [await decoded_history_text(client, job_id) for job_id in job_ids]
    answers = [str(x) for x in (created, job, record, portal, services)]
    captured = capfd.readouterr()
    for value in sensitive(settings, values):
        assert not any(value in text for text in histories), "secret value in a job history"
        assert not any(value in text for text in answers), "secret value in an API answer"
        assert value not in captured.out + captured.err, "secret value in the logs"


async def test_a_hyphenated_prefix_is_taken_everywhere_and_its_secrets_are_customer_scoped(
    api, settings
):
    prefix = f"{new_prefix()}-eu"
    created = await create(api, prefix, create_litellm=True)
    assert (await wait_for_job(api, created["job_id"], seconds=60))["status"] == "completed"

    listed = await api.get("/api/v1/secrets", params={"scope": "customer", "customer": prefix})
    assert listed.status_code == 200, listed.text
    onboarded = {s["name"]: s["scope"] for s in listed.json()}
    assert onboarded == {CustomerNames(prefix).litellm_key_secret: "CUSTOMER"}

    body = {"scope": "CUSTOMER", "key": "token", "value": "v-1", "customer": prefix}
    made = await api.post("/api/v1/secrets", json=body)
    assert made.status_code == 201, made.text
    assert made.json()["name"] == f"{prefix}-token"

    service = f"{prefix}-web"
    deploy = await api.post(
        "/api/v1/services/deploy",
        json={"service_name": service, "image": IMAGE, "customer": prefix},
    )
    assert deploy.status_code == 202, deploy.text
    assert (await wait_for_job(api, deploy.json()["job_id"], seconds=60))["status"] == "completed"
    mine = (await api.get(f"{BASE}/{created['id']}/services")).json()["services"]
    assert [s["name"] for s in mine] == [service]
    assert (await api.delete(f"/api/v1/services/{service}")).status_code in (200, 202, 204)

    assert (await api.delete(f"{BASE}/{created['id']}")).status_code == 204
    assert (await footprint(settings, prefix)).empty
    gone = await api.get("/api/v1/secrets", params={"customer": prefix})
    assert gone.json() == []


async def test_two_customers_with_the_same_long_name_get_distinct_jira_projects_naming_them(
    api, settings
):
    long_name = "Globex Corporation International Holdings " * 3
    created = []
    for prefix in (new_prefix(), new_prefix()):
        body = {"prefix": prefix, "name": long_name, "email": f"admin@{prefix}.example"}
        answer = await api.post(BASE, json={**body, "create_jira_portal": True})
        assert answer.status_code == 201, answer.text
        created.append(answer.json())
    names = []
    for customer in created:
        job = await wait_for_job(api, customer["job_id"], seconds=60)
        assert job["result"]["provisionings"]["jira"]["status"] == "ready", job
        key = CustomerNames(customer["prefix"]).jira_project_key
        project = await asyncio.to_thread(JiraPortals(settings).project, key)
        assert len(project["name"]) <= 80
        assert project["name"].endswith(f"({customer['prefix']})")
        names.append(project["name"])
    assert names[0] != names[1]
    for customer in created:
        assert (await api.delete(f"{BASE}/{customer['id']}")).status_code == 204


async def test_the_creation_answer_names_each_requested_provisionings_job_and_its_links(
    api, settings
):
    prefix = new_prefix()
    created = await create(api, prefix, create_litellm=True, create_zenml=False)
    job_id = created["job_id"]
    branches = created["provisioning_jobs"]
    assert branches["jira"] is None and branches["zenml"] is None
    litellm = branches["litellm"]
    assert litellm["job_id"] == f"{job_id}-litellm"
    assert litellm["operation"] == "litellm_provision"
    assert (
        litellm["job_url"] == f"{settings.public_api_url.rstrip('/')}/api/v1/jobs/{job_id}-litellm"
    )
    assert litellm["logs_url"].endswith(f"/api/v1/jobs/{job_id}-litellm/logs")
    assert litellm["temporal_ui_url"].endswith(f"/workflows/{job_id}-litellm")

    job = await wait_for_job(api, job_id, seconds=60)
    assert job["result"]["provisionings"]["litellm"]["job_id"] == litellm["job_id"]
    branch_job = (await api.get(f"/api/v1/jobs/{litellm['job_id']}")).json()
    assert branch_job["status"] == "completed" and branch_job["operation"] == "litellm_provision"

    # The OpenAPI document declares them.
    schema = (await api.get("/openapi.json")).json()["components"]["schemas"]
    assert "provisioning_jobs" in schema["CustomerCreated"]["required"]
    assert set(schema["ProvisioningJob"]["required"]) >= {"job_id", "job_url", "temporal_ui_url"}
    assert (await api.delete(f"{BASE}/{created['id']}")).status_code == 204
