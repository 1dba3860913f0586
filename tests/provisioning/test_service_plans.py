"""Plans before changes: `?dry_run=true` answers the diff and a plan_hash and changes nothing;
applying with the plan_hash goes on only if the live service still matches the plan, checked by the
job under its turn on the service."""

from __future__ import annotations

import asyncio

import httpx
from google.cloud import run_v2

from contracts.provisioning.services import ServiceSpec
from providers.google.cloud_run import CloudRunServices
from providers.google.cloud_run_plan import plan_service
from providers.tls import client_context
from tests.helpers.platform import unique_name, wait_for_job
from tests.helpers.provisioning import IMAGE, deploy

OTHER_IMAGE = "us-docker.pkg.dev/cloudrun/container/hello:v2"


def _by_field(plan: dict) -> dict[str, dict]:
    return {change["field"]: change for change in plan["changes"]}


async def _deployed(api, name: str, **fields) -> None:
    job = await wait_for_job(api, (await deploy(api, name, **fields))["job_id"])
    assert job["status"] == "completed", job


async def _jobs_of(api, name: str) -> list[dict]:
    listed = await api.get("/api/v1/jobs", params={"service_name": name})
    assert listed.status_code == 200, listed.text
    return listed.json()["jobs"]


async def test_a_new_service_plans_a_create_and_starts_nothing(api, settings):
    name = unique_name("plannew")
    body = {
        "service_name": name,
        "image": IMAGE,
        "memory": "1Gi",
        "env_vars": {"LOG_LEVEL": "info"},
        "secrets": {"DB_URL": "db-url:3"},
    }
    response = await api.post("/api/v1/services/deploy", params={"dry_run": "true"}, json=body)

    assert response.status_code == 200, response.text
    plan = response.json()
    assert plan["action"] == "create" and plan["service_name"] == name
    assert len(plan["plan_hash"]) == 64
    changes = _by_field(plan)
    assert changes["image"] == {"field": "image", "change": "add", "before": None, "after": IMAGE}
    assert changes["memory"]["after"] == "1Gi"
    assert changes["env.LOG_LEVEL"]["after"] == "info"
    # A secret reference by name only.
    assert changes["secrets.DB_URL"]["after"] == "db-url:3"
    assert changes["access.invokers"]["after"] == sorted(
        [
            f"domain:{settings.private_access_domain}",
            f"serviceAccount:{settings.onboarding_service_account_email}",
        ]
    )
    assert CloudRunServices(settings).get(name) is None
    assert await _jobs_of(api, name) == []

    # The same request planned again gives the same hash; applying with it creates the service.
    again = await api.post("/api/v1/services/deploy", params={"dry_run": "true"}, json=body)
    assert again.json()["plan_hash"] == plan["plan_hash"]
    applied = await api.post(
        "/api/v1/services/deploy", json={**body, "plan_hash": plan["plan_hash"]}
    )
    assert applied.status_code == 202, applied.text
    job = await wait_for_job(api, applied.json()["job_id"])
    assert job["status"] == "completed", job
    logs = (await api.get(f"/api/v1/jobs/{job['job_id']}/logs")).json()["logs"]
    assert any("still matches" in line for line in logs), logs


async def test_an_update_plans_image_env_and_access_then_applies(api, settings):
    name = unique_name("planupd")
    await _deployed(api, name, env_vars={"A": "1", "B": "2"})
    body = {
        "service_name": name,
        "image": OTHER_IMAGE,
        "env_vars": {"B": "3", "C": "4"},
        "allow_public_access": True,
    }
    response = await api.put(f"/api/v1/services/{name}", params={"dry_run": "true"}, json=body)

    assert response.status_code == 200, response.text
    plan = response.json()
    assert plan["action"] == "update"
    changes = _by_field(plan)
    assert set(changes) == {"image", "env.B", "env.C", "access.invokers"}
    assert (changes["image"]["before"], changes["image"]["after"]) == (IMAGE, OTHER_IMAGE)
    assert changes["env.B"] == {"field": "env.B", "change": "update", "before": "2", "after": "3"}
    assert changes["env.C"]["change"] == "add"
    assert changes["access.invokers"]["after"] == ["allUsers"]
    assert CloudRunServices(settings).get(name).template.containers[0].image == IMAGE

    applied = await api.put(
        f"/api/v1/services/{name}", params={"plan_hash": plan["plan_hash"]}, json=body
    )
    assert applied.status_code == 202, applied.text
    job = await wait_for_job(api, applied.json()["job_id"])
    assert job["status"] == "completed", job
    details = (await api.get(f"/api/v1/services/{name}/details")).json()
    assert details["image"] == OTHER_IMAGE
    assert details["env_vars"] == {"A": "1", "B": "3", "C": "4"}

    # Now nothing is left to change: the same update plans an empty diff.
    noop = await api.put(f"/api/v1/services/{name}", params={"dry_run": "true"}, json=body)
    assert noop.status_code == 200, noop.text
    assert noop.json()["changes"] == []


async def test_a_plan_of_a_missing_service_update_is_404(api):
    name = unique_name("planmiss")
    response = await api.put(
        f"/api/v1/services/{name}",
        params={"dry_run": "true"},
        json={"service_name": name, "env_vars": {"A": "1"}},
    )
    assert response.status_code == 404, response.text


async def test_a_stale_plan_is_refused_by_the_job_and_changes_nothing(api, settings):
    name = unique_name("planstale")
    await _deployed(api, name, env_vars={"A": "1"})
    body = {"service_name": name, "env_vars": {"A": "2"}}
    plan = (await api.put(f"/api/v1/services/{name}", params={"dry_run": "true"}, json=body)).json()

    # Someone changes the service directly on the (local) cloud between plan and apply.
    cloud_run = CloudRunServices(settings)

    def change_directly() -> None:
        service = cloud_run.get(name)
        service.template.containers[0].env.append(run_v2.EnvVar(name="SNEAKY", value="x"))
        cloud_run.client.update_service(service=service).result(timeout=60)

    await asyncio.to_thread(change_directly)

    applied = await api.put(
        f"/api/v1/services/{name}", json={**body, "plan_hash": plan["plan_hash"]}
    )
    assert applied.status_code == 202, applied.text
    job = await wait_for_job(api, applied.json()["job_id"])
    assert job["status"] == "failed", job
    assert "stale plan" in job["error"], job
    env = {v.name: v.value for v in cloud_run.get(name).template.containers[0].env}
    assert env == {"A": "1", "SNEAKY": "x"}


async def test_plan_hash_in_query_and_body_must_agree(api):
    name = unique_name("planboth")
    response = await api.put(
        f"/api/v1/services/{name}",
        params={"plan_hash": "a" * 64},
        json={"service_name": name, "plan_hash": "b" * 64},
    )
    assert response.status_code == 400, response.text


def test_the_plan_function_is_pure_and_never_shows_secret_values(settings):
    current = run_v2.Service(
        labels={"managed-by": "conneskills-platform", "job-id": "deploy-1", "team": "a"},
        template=run_v2.RevisionTemplate(
            containers=[
                run_v2.Container(
                    image=IMAGE,
                    env=[
                        run_v2.EnvVar(
                            name="TOKEN",
                            value_source=run_v2.EnvVarSource(
                                secret_key_ref=run_v2.SecretKeySelector(
                                    secret="tok", version="latest"
                                )
                            ),
                        )
                    ],
                )
            ]
        ),
    )
    spec = ServiceSpec(service_name="svc", secrets={"TOKEN": "tok:2"})
    plan = plan_service(settings, spec, "us-central1", current, ["allUsers"])
    assert [(c.field, c.before, c.after) for c in plan.changes] == [
        ("secrets.TOKEN", "tok:latest", "tok:2")
    ]
    # The platform's own labels change with every job and never make a plan stale.
    relabelled = run_v2.Service(current)
    relabelled.labels["job-id"] = "deploy-2"
    assert plan_service(settings, spec, "us-central1", relabelled, ["allUsers"]) == plan
    # A live change elsewhere does.
    changed = run_v2.Service(current)
    changed.labels["team"] = "b"
    assert plan_service(settings, spec, "us-central1", changed, ["allUsers"]).plan_hash != (
        plan.plan_hash
    )


async def test_planning_to_mount_secrets_needs_the_secrets_scope_as_applying_does(api, api_server):
    created = await api.post("/api/v1/api-keys", json={"name": "plan-w", "scopes": ["write"]})
    assert created.status_code == 201, created.text
    name = unique_name("plansec")
    body = {"service_name": name, "image": IMAGE, "secrets": {"DB_URL": "db-url"}}
    async with httpx.AsyncClient(
        verify=client_context(),
        base_url=api_server.url,
        headers={"X-API-Key": created.json()["key"]},
    ) as writer:
        refused = await writer.post(
            "/api/v1/services/deploy", params={"dry_run": "true"}, json=body
        )
        assert refused.status_code == 403, refused.text
        body.pop("secrets")
        planned = await writer.post(
            "/api/v1/services/deploy", params={"dry_run": "true"}, json=body
        )
        assert planned.status_code == 200, planned.text
