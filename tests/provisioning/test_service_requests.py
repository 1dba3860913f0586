"""Deploy and update requests: what Cloud Run would refuse is a 400 naming the field before any job
starts, the platform's own labels cannot be set, mounting secrets needs the secrets scope and is
audited, and details show Cloud Run's enum names."""

from __future__ import annotations

import httpx
import pytest

from contracts.task_queues import on_platform_queues
from providers.tls import client_context
from store.provisioning import secret_audit
from tests.helpers.platform import unique_name, wait_for_job
from tests.helpers.provisioning import IMAGE, deploy

DEPLOY = "/api/v1/services/deploy"


async def job_count(client, settings) -> int:
    return (await client.count_workflows(on_platform_queues(settings.task_queue))).count


async def key_client(api, api_server, *scopes: str) -> httpx.AsyncClient:
    response = await api.post("/api/v1/api-keys", json={"name": "svc-test", "scopes": list(scopes)})
    assert response.status_code == 201, response.text
    return httpx.AsyncClient(
        verify=client_context(),
        base_url=api_server.url,
        headers={"X-API-Key": response.json()["key"]},
        timeout=30,
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"image": "x\ny"}, "image"),
        ({"image": "has space:latest"}, "image"),
        ({"image": "gcr.io/p/UPPER:1"}, "image"),
        ({"image": "gcr.io/p/app@sha256:abc"}, "image"),
        ({"image": "a" * 300}, "image"),
        ({"memory": "999999999Gi"}, "memory"),
        ({"memory": "64Mi"}, "memory"),
        ({"memory": "33Gi"}, "memory"),
        ({"cpu": "1000000"}, "cpu"),
        ({"cpu": "3"}, "cpu"),
        ({"cpu": "0.05"}, "cpu"),
        ({"cpu": "1", "memory": "8Gi"}, "memory"),
        ({"cpu": "4", "memory": "1Gi"}, "memory"),
        ({"region": "mars-north1"}, "region"),
        ({"service_account": 'a"b@p.iam.gserviceaccount.com'}, "service_account"),
        ({"service_account": "someone@example.com"}, "service_account"),
        ({"labels": {"managed-by": "me"}}, "labels"),
    ],
)
async def test_values_cloud_run_refuses_answer_400_and_start_no_job(
    api, client, settings, fields, field
):
    before = await job_count(client, settings)
    name = unique_name("bad")
    response = await api.post(DEPLOY, json={"service_name": name, "image": IMAGE, **fields})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [f["field"] for f in error["details"]["fields"]] == [field]
    update = await api.put(f"/api/v1/services/{name}", json={"service_name": name, **fields})
    assert update.status_code == 400, update.text
    assert await job_count(client, settings) == before


async def test_values_cloud_run_accepts_deploy(api):
    name = unique_name("ok")
    started = await deploy(
        api,
        name,
        image=f"gcr.io/my-project/app:v1.2@sha256:{'a' * 64}",
        cpu="0.5",
        memory="512Mi",
        concurrency=1,
        region="europe-west1",
        service_account="runner-1@my-project.iam.gserviceaccount.com",
        labels={"team": "core"},
    )
    job = await wait_for_job(api, started["job_id"])
    assert job["status"] == "completed", job
    details = (
        await api.get(f"/api/v1/services/{name}/details", params={"region": "europe-west1"})
    ).json()
    assert details["labels"]["managed-by"] == "conneskills-platform"
    assert details["labels"]["team"] == "core"
    # Enum names, not their numbers.
    assert details["raw"]["ingress"] == "INGRESS_TRAFFIC_ALL"
    assert details["raw"]["launchStage"] in {"GA", "LAUNCH_STAGE_UNSPECIFIED", "BETA"}


async def test_mounting_secrets_needs_the_secrets_scope_and_is_audited(
    api, api_server, client, settings, db
):
    secret = f"svc-mount-{unique_name('s')}"
    writer = await key_client(api, api_server, "write")
    mounter = await key_client(api, api_server, "write", "secrets")
    name = unique_name("mount")
    body = {"service_name": name, "image": IMAGE, "secrets": {"DB_URL": f"{secret}:2"}}
    async with writer, mounter:
        before = await job_count(client, settings)
        refused = await writer.post(DEPLOY, json=body)
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["details"] == {"scope": "secrets", "secrets": [secret]}
        assert await job_count(client, settings) == before
        # Without secrets the same key deploys.
        plain = await writer.post(DEPLOY, json={"service_name": name, "image": IMAGE})
        assert plain.status_code == 202, plain.text
        assert (await wait_for_job(api, plain.json()["job_id"]))["status"] == "completed"
        refused_update = await writer.put(f"/api/v1/services/{name}", json=body)
        assert refused_update.status_code == 403

        started = await mounter.put(f"/api/v1/services/{name}", json=body)
        assert started.status_code == 202, started.text
        job_id = started.json()["job_id"]
    async with db.transaction() as session:
        rows = await secret_audit.for_secret(session, secret)
    assert {r.action for r in rows} == {secret_audit.REFERENCED_BY_DEPLOYMENT}
    # Newest first: the granted update, then the two refusals.
    assert rows[0].detail == f"ok; service={name}; job={job_id}"
    assert all(r.detail.startswith(f"denied; service={name}; job=") for r in rows[1:])
    assert len(rows) == 3
    assert [r.api_key_name for r in rows] == ["svc-test"] * 3


async def test_rules_the_local_cloud_and_cloud_run_share_are_refused_before_a_job(api):
    """Each of these is what Cloud Run (and the local cloud) would refuse: the API says so first."""
    name = unique_name("rules")
    bad_bodies = [
        {"image": "ghcr.io/acme/app:1"},
        {"image": IMAGE, "cpu": "0.5"},
        {"image": IMAGE, "cpu": "0.5", "concurrency": 1, "memory": "2Gi"},
    ]
    for fields in bad_bodies:
        response = await api.post("/api/v1/services/deploy", json={"service_name": name, **fields})
        assert response.status_code == 400, (fields, response.text)
    listed = (await api.get("/api/v1/jobs", params={"service_name": name})).json()
    assert listed["total"] == 0
