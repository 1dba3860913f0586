"""Services end to end: API → DeployService/UndeployService on a real worker → Cloud Run in the local cloud."""

from __future__ import annotations

import re

from sqlalchemy import select

from providers.google.cloud_run import CloudRunServices
from store.provisioning.models import Customer, ExternalService, ServiceRecord
from tests.helpers.platform import unique_name, wait_for_job
from tests.helpers.provisioning import IMAGE, deploy


async def test_deploy_creates_a_service_visible_in_list_get_details_and_status(api, settings, db):
    name = unique_name("deploy")
    started = await deploy(
        api,
        name,
        port=8080,
        cpu="2",
        memory="1Gi",
        min_instances=1,
        max_instances=4,
        env_vars={"LOG_LEVEL": "info"},
        secrets={"DB_URL": "db-url:3"},
    )
    assert started["status"] == "queued"
    assert started["operation"] == "deploy"
    assert started["service_name"] == name
    assert started["job_id"].startswith("deploy-")
    assert started["temporal_ui_url"].endswith(f"/workflows/{started['job_id']}")

    job = await wait_for_job(api, started["job_id"])
    assert job["status"] == "completed", job
    assert job["progress"] == 100
    assert job["result"]["created"] is True
    assert job["result"]["url"].startswith("https://")
    assert job["duration"] is not None and job["completed_at"] is not None

    info = (await api.get(f"/api/v1/services/{name}")).json()
    assert info["name"] == name and info["status"] == "Running"
    assert info["url"] == job["result"]["url"]

    details = (await api.get(f"/api/v1/services/{name}/details")).json()
    assert details["image"] == IMAGE
    assert (details["cpu"], details["memory"], details["port"]) == ("2", "1Gi", 8080)
    assert (details["min_instances"], details["max_instances"]) == (1, 4)
    assert details["env_vars"] == {"LOG_LEVEL": "info"}
    assert details["secret_env_vars"] == {"DB_URL": "db-url:3"}
    assert details["raw"]["name"].endswith(f"/services/{name}")

    status = (await api.get(f"/api/v1/services/{name}/status")).json()
    assert status["ready"]["status"] == "True"
    assert status["health"] == "healthy"
    assert status["instances"]["min"] == 1 and status["instances"]["max"] == 4
    assert status["latest_revision"].startswith(f"{name}-")
    assert status["uptime_seconds"] is not None and status["uptime_seconds"] >= 0

    listed = (await api.get("/api/v1/services", params={"limit": 1000})).json()
    assert name in [s["name"] for s in listed["services"]]

    # Private by default: the conneskills.com domain and the onboarding service account.
    members = CloudRunServices(settings).iam_members(name)
    assert members == sorted(
        [
            f"domain:{settings.private_access_domain}",
            f"serviceAccount:{settings.onboarding_service_account_email}",
        ]
    )
    async with db.transaction() as session:
        record = await session.scalar(select(ServiceRecord).where(ServiceRecord.name == name))
    assert record is not None and record.url == job["result"]["url"]

    logs = (await api.get(f"/api/v1/jobs/{started['job_id']}/logs", params={"lines": 3})).json()
    assert len(logs["logs"]) == 3 and logs["total"] >= 5
    assert all(re.match(r"^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\] ", line) for line in logs["logs"])

    service_logs = (await api.get(f"/api/v1/services/{name}/logs", params={"limit": 50})).json()
    assert service_logs["total"] >= 1
    assert all(e["resource"]["labels"]["service_name"] == name for e in service_logs["logs"])


async def test_update_merges_env_vars_and_keeps_resources(api, settings):
    name = unique_name("update")
    job = await wait_for_job(
        api, (await deploy(api, name, cpu="2", memory="1Gi", env_vars={"A": "1"}))["job_id"]
    )
    assert job["status"] == "completed"

    response = await api.put(
        f"/api/v1/services/{name}",
        json={"service_name": name, "env_vars": {"B": "2"}, "allow_public_access": True},
    )
    assert response.status_code == 202, response.text
    assert response.json()["operation"] == "update"
    job = await wait_for_job(api, response.json()["job_id"])
    assert job["status"] == "completed", job
    assert job["result"]["created"] is False

    details = (await api.get(f"/api/v1/services/{name}/details")).json()
    assert details["env_vars"] == {"A": "1", "B": "2"}
    assert (details["cpu"], details["memory"], details["image"]) == ("2", "1Gi", IMAGE)
    assert CloudRunServices(settings).iam_members(name) == ["allUsers"]


async def test_put_with_mismatched_names_is_refused(api):
    response = await api.put("/api/v1/services/one-name", json={"service_name": "other-name"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


async def test_put_on_a_missing_service_answers_404(api):
    name = unique_name("missing")
    response = await api.put(f"/api/v1/services/{name}", json={"service_name": name})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_undeploy_deletes_the_service_and_its_registry_row(api, db):
    name = unique_name("undeploy")
    assert (await wait_for_job(api, (await deploy(api, name))["job_id"]))["status"] == "completed"

    response = await api.delete(f"/api/v1/services/{name}")
    assert response.status_code == 202
    assert response.json()["operation"] == "undeploy"
    job = await wait_for_job(api, response.json()["job_id"])
    assert job["status"] == "completed", job

    assert (await api.get(f"/api/v1/services/{name}")).status_code == 404
    async with db.transaction() as session:
        assert await session.scalar(select(ServiceRecord).where(ServiceRecord.name == name)) is None
    assert (await api.delete(f"/api/v1/services/{name}")).status_code == 404


async def test_force_delete_answers_204_whether_or_not_the_service_exists(api):
    name = unique_name("force")
    assert (await wait_for_job(api, (await deploy(api, name))["job_id"]))["status"] == "completed"
    assert (await api.delete(f"/api/v1/services/{name}/force")).status_code == 204
    assert (await api.get(f"/api/v1/services/{name}")).status_code == 404
    assert (await api.delete(f"/api/v1/services/{name}/force")).status_code == 204


async def test_customer_services_are_linked_and_filterable(api, db):
    prefix = f"c{unique_name('')[1:7]}".replace("-", "")
    async with db.transaction() as session:
        session.add(Customer(prefix=prefix, name="Test customer"))
    name = f"{prefix}-crm"
    started = await deploy(api, name)
    assert (await wait_for_job(api, started["job_id"]))["status"] == "completed"

    listed = (await api.get("/api/v1/services", params={"customer": prefix})).json()
    assert [s["name"] for s in listed["services"]] == [name]
    assert listed["services"][0]["category"] == "customer"
    managed = await api.get("/api/v1/services", params={"category": "managed", "limit": 1000})
    assert name not in [s["name"] for s in managed.json()["services"]]

    job = (await api.get(f"/api/v1/jobs/{started['job_id']}")).json()
    assert job["customer_prefix"] == prefix


async def test_deploy_naming_an_unknown_customer_is_refused(api):
    response = await api.post(
        "/api/v1/services/deploy",
        json={"service_name": unique_name("x"), "image": IMAGE, "customer": "nosuchcustomer"},
    )
    assert response.status_code == 400
    assert "nosuchcustomer" in response.json()["error"]["message"]


async def test_external_services_are_listed_under_their_category(api, db):
    name = unique_name("ext")
    async with db.transaction() as session:
        session.add(
            ExternalService(
                name=name, type="redis", url="redis://127.0.0.1:6379/0", health_status="healthy"
            )
        )
    listed = (await api.get("/api/v1/services", params={"category": "external"})).json()
    entry = next(s for s in listed["services"] if s["name"] == name)
    assert (entry["type"], entry["status"], entry["category"]) == ("redis", "healthy", "external")
    assert all(s["category"] == "external" for s in listed["services"])
    others = (await api.get("/api/v1/services", params={"limit": 1000})).json()["services"]
    assert name not in [s["name"] for s in others]


async def test_an_upstream_error_answer_names_no_internal_endpoint(api, clean_faults):
    name = unique_name("upstream")
    for code, status in ((503, 503), (500, 502), (400, 400)):
        fault = clean_faults.inject_fault(
            fail_next=1, code=code, method="GET", path_contains=f"/services/{name}"
        )
        response = await api.get(f"/api/v1/services/{name}")
        assert response.status_code == status, response.text
        assert clean_faults.fired(fault) == 1
        assert "127.0.0.1" not in response.text and "http://" not in response.text, response.text
