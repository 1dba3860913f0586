"""The API's contract: auth and scopes, the error envelope, bad input refused without side effects."""

from __future__ import annotations

import httpx
import pytest

from contracts.task_queues import on_platform_queues
from providers.tls import client_context
from tests.helpers.platform import unique_name, wait_for_job
from tests.helpers.provisioning import IMAGE, deploy


async def job_count(client, settings) -> int:
    return (await client.count_workflows(on_platform_queues(settings.task_queue))).count


async def create_key(api, *scopes: str) -> str:
    response = await api.post("/api/v1/api-keys", json={"name": "t", "scopes": list(scopes)})
    assert response.status_code == 201, response.text
    return response.json()["key"]


async def test_requests_without_a_key_or_with_an_unknown_key_answer_401(api_server):
    async with httpx.AsyncClient(
        verify=client_context(), base_url=api_server.url, timeout=60
    ) as anonymous:
        missing = await anonymous.get("/api/v1/services")
        unknown = await anonymous.get("/api/v1/jobs", headers={"X-API-Key": "csk_nope"})
    for response in (missing, unknown):
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"


async def test_a_read_only_key_reads_but_cannot_deploy(api, api_server):
    key = await create_key(api, "read")
    async with httpx.AsyncClient(
        verify=client_context(), base_url=api_server.url, headers={"Authorization": f"Bearer {key}"}
    ) as reader:
        assert (await reader.get("/api/v1/jobs")).status_code == 200
        refused = await reader.post(
            "/api/v1/services/deploy", json={"service_name": "x-ro", "image": IMAGE}
        )
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "forbidden"
        assert (
            await reader.post("/api/v1/api-keys", json={"name": "n", "scopes": ["read"]})
        ).status_code == 403


async def test_a_revoked_key_is_refused(api, api_server):
    key = await create_key(api, "write")
    keys = (await api.get("/api/v1/api-keys")).json()
    key_id = next(k["id"] for k in keys if key.startswith(k["key_prefix"]) and k["active"])
    assert (await api.delete(f"/api/v1/api-keys/{key_id}")).status_code == 204
    async with httpx.AsyncClient(
        verify=client_context(), base_url=api_server.url, headers={"X-API-Key": key}
    ) as revoked:
        assert (await revoked.get("/api/v1/jobs")).status_code == 401


async def test_health_needs_no_key_and_reports_dependencies(api_server):
    async with httpx.AsyncClient(
        verify=client_context(), base_url=api_server.url, timeout=60
    ) as anonymous:
        response = await anonymous.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["temporal"]["status"] == "ok" and body["database"]["status"] == "ok"


async def test_openapi_shows_the_security_schemes_and_examples(api_server):
    async with httpx.AsyncClient(
        verify=client_context(), base_url=api_server.url, timeout=60
    ) as anonymous:
        spec = (await anonymous.get("/openapi.json")).json()
        assert (await anonymous.get("/docs")).status_code == 200
    schemes = spec["components"]["securitySchemes"]
    assert {"ApiKeyHeader", "BearerApiKey"} <= set(schemes)
    for path in spec["paths"].values():
        for operation in path.values():
            body = operation.get("requestBody")
            if body:
                # JSON, or a form for the hosting system's seed-001 routes.
                (media,) = body["content"].values()
                ref = media["schema"]["$ref"].rsplit("/", 1)[-1]
                assert spec["components"]["schemas"][ref].get("examples"), ref


@pytest.mark.parametrize(
    "body",
    [
        {"service_name": "Bad_Name", "image": IMAGE},
        {"service_name": "ends-with-", "image": IMAGE},
        {"service_name": "a" * 50, "image": IMAGE},
        {"service_name": "ok-name"},
        {"service_name": "ok-name", "image": IMAGE, "port": "eighty"},
        {"service_name": "ok-name", "image": IMAGE, "port": 70000},
        {"service_name": "ok-name", "image": IMAGE, "cpu": "lots"},
        {"service_name": "ok-name", "image": IMAGE, "memory": "1TB"},
        {"service_name": "ok-name", "image": IMAGE, "min_instances": 5, "max_instances": 2},
        {"service_name": "ok-name", "image": IMAGE, "env_vars": {"bad name": "x"}},
        {"service_name": "ok-name", "image": IMAGE, "secrets": {"X": "bad/secret"}},
        {"service_name": "ok-name", "image": IMAGE, "unknown_field": 1},
        {"service_name": "ok-name", "image": IMAGE, "region": "Mars"},
        {"service_name": 12, "image": IMAGE},
        [],
        "just a string",
    ],
)
async def test_malformed_deploy_bodies_answer_400_and_start_nothing(api, client, settings, body):
    before = await job_count(client, settings)
    response = await api.post("/api/v1/services/deploy", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"]["fields"]
    assert await job_count(client, settings) == before


async def test_invalid_json_answers_400(api):
    response = await api.post(
        "/api/v1/services/deploy",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/jobs", {"limit": 0}),
        ("/api/v1/jobs", {"limit": 101}),
        ("/api/v1/jobs", {"status": "exploded"}),
        ("/api/v1/jobs", {"service_name": "x' OR '1'='1"}),
        ("/api/v1/services", {"category": "planets"}),
        ("/api/v1/services", {"limit": -1}),
        ("/api/v1/services/Bad_Name", {}),
        ("/api/v1/services/ok/logs", {"limit": 5000}),
        ("/api/v1/jobs/some-job/logs", {"lines": 0}),
        ("/api/v1/jobs/some-job/logs", {"lines": 10001}),
    ],
)
async def test_bad_query_parameters_answer_400(api, path, params):
    response = await api.get(path, params=params)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "validation_error"


async def test_unknown_jobs_and_services_answer_404_with_the_envelope(api):
    for path in ("/api/v1/jobs/deploy-doesnotexist", "/api/v1/services/does-not-exist"):
        response = await api.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert (await api.post("/api/v1/jobs/deploy-doesnotexist/cancel")).status_code == 404


async def test_jobs_are_listed_newest_first_and_filtered(api):
    name = unique_name("listed")
    first = (await deploy(api, name))["job_id"]
    await wait_for_job(api, first)
    second = (await deploy(api, name, env_vars={"V": "2"}))["job_id"]
    await wait_for_job(api, second)

    listed = (await api.get("/api/v1/jobs", params={"service_name": name})).json()
    assert [job["job_id"] for job in listed["jobs"]] == [second, first]
    assert listed["total"] == 2
    job = listed["jobs"][0]
    for field in (
        "status",
        "operation",
        "service_name",
        "progress",
        "current_phase",
        "started_at",
        "completed_at",
        "created_at",
        "duration",
        "result",
        "error",
        "logs_url",
        "temporal_ui_url",
    ):
        assert field in job
    assert job["result"]["service_name"] == name

    completed = await api.get("/api/v1/jobs", params={"service_name": name, "status": "completed"})
    assert completed.json()["total"] == 2
    failed = await api.get("/api/v1/jobs", params={"service_name": name, "status": "failed"})
    assert failed.json()["total"] == 0
