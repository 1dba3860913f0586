"""What the API refuses, its OpenAPI document refuses too: for each operation whose rules once lived
only in validators, a value the API answers 400 to is invalid against the schema the document
publishes for it, so a generated client knows the rule before it calls."""

from __future__ import annotations

import httpx
import jsonschema_rs
import pytest

from providers.tls import client_context

IMAGE = "us-docker.pkg.dev/cloudrun/container/hello:latest"
AGENT = {
    "customer_id": "00000000-0000-4000-8000-000000000001",
    "agent_name": "researcher",
    "prompt_ref": "researcher-system",
    "image": IMAGE,
    "default_model": "gpt-4o",
}
SOME_ID = "00000000-0000-4000-8000-000000000002"  # fixed: xdist workers collect alike

# (method, path as published, path as sent, body with the refused value)
BODIES = [
    ("put", "/api/v1/services/{service_name}", "/api/v1/services/hello", {"image": "Bad Image"}),
    (
        "put",
        "/api/v1/services/{service_name}",
        "/api/v1/services/hello",
        {"service_account": "robot@example.com"},
    ),
    (
        "post",
        "/api/v1/services/deploy",
        "/api/v1/services/deploy",
        {"service_name": "hello", "image": "repo/UPPER:tag"},
    ),
    ("post", "/api/v1/agents/deploy", "/api/v1/agents/deploy", {**AGENT, "image": "bad image"}),
    (
        "post",
        "/api/v1/external-services",
        "/api/v1/external-services",
        {"name": "pg", "type": "postgres", "url": "db.example:5432"},
    ),
    (
        "post",
        "/api/v1/external-services",
        "/api/v1/external-services",
        {"name": "pg", "type": "postgres", "cloud_console": "ftp://console.example"},
    ),
    (
        "put",
        "/api/v1/external-services/{service_id}",
        f"/api/v1/external-services/{SOME_ID}",
        {"url": "redis://host with spaces"},
    ),
    (
        "post",
        "/api/v1/customers",
        "/api/v1/customers",
        {"prefix": "acme", "name": "   ", "email": "admin@acme.example"},
    ),
    ("put", "/api/v1/customers/{customer_id}", f"/api/v1/customers/{SOME_ID}", {"name": " \t "}),
]


@pytest.fixture(scope="module")
async def spec(api_server) -> dict:
    async with httpx.AsyncClient(
        verify=client_context(), base_url=api_server.url, timeout=60
    ) as anonymous:
        return (await anonymous.get("/openapi.json")).json()


def published(spec: dict, schema: dict) -> jsonschema_rs.Validator:
    document = {**schema, "components": spec["components"]}
    return jsonschema_rs.Draft202012Validator(document, validate_formats=True)


@pytest.mark.parametrize(("method", "template", "path", "body"), BODIES)
async def test_a_body_the_api_refuses_is_refused_by_the_published_schema(
    api, spec, method, template, path, body
):
    answer = await api.request(method.upper(), path, json=body)
    assert answer.status_code == 400, answer.text
    operation = spec["paths"][template][method]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert not published(spec, schema).is_valid(body), f"the document accepts {body}"


@pytest.mark.parametrize("key", ["", "k" * 256, "line\x7fbreak"])
async def test_an_ingest_delivery_key_the_api_refuses_is_refused_by_the_published_schema(
    api, spec, key
):
    answer = await api.post(
        "/api/v1/ingest/no-such-account", json={"nombre": "x"}, headers={"Idempotency-Key": key}
    )
    assert answer.status_code == 400, answer.text
    operation = spec["paths"]["/api/v1/ingest/{account_api_key}"]["post"]
    header = next(p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
    assert not published(spec, header["schema"]).is_valid(key)


@pytest.mark.parametrize("value", ["0.5", "2025-01-31T12:00:00"])
async def test_an_audit_time_the_api_refuses_is_refused_by_the_published_schema(api, spec, value):
    answer = await api.get("/api/v1/audit", params={"to": value})
    assert answer.status_code == 400, answer.text
    parameter = next(
        p for p in spec["paths"]["/api/v1/audit"]["get"]["parameters"] if p["name"] == "to"
    )
    assert not published(spec, parameter["schema"]).is_valid(value)
