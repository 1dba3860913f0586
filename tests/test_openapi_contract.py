"""The OpenAPI document declares what the API answers (issue 7, finding 10): 400 and never 422 for
bad input, 401/403 where a key is needed, 404 for paths naming a resource, 413/415 for bodies, 409
for Idempotency-Key, every error with the envelope's schema. The declarations are checked against
real answers too: one probe per operation and status class."""

from __future__ import annotations

import json

import httpx
import pytest

from providers.tls import client_context

ENVELOPE = "#/components/schemas/ErrorEnvelope"
# Its own documented body (the same report as 200), not the error envelope.
OWN_FORMAT = {("get", "/health")}


@pytest.fixture(scope="module")
async def spec(api_server) -> dict:
    async with httpx.AsyncClient(
        verify=client_context(), base_url=api_server.url, timeout=60
    ) as anonymous:
        return (await anonymous.get("/openapi.json")).json()


def operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def expected(operation: dict) -> set[str]:
    parameters = operation.get("parameters", [])
    wanted = set()
    if parameters or "requestBody" in operation:
        wanted.add("400")
    if operation.get("security"):
        wanted |= {"401", "403"}
    if any(p["in"] == "path" for p in parameters):
        wanted.add("404")
    if "requestBody" in operation:
        wanted |= {"413", "415"}
    if any(p["name"] == "Idempotency-Key" for p in parameters):
        wanted.add("409")
    return wanted


async def test_no_operation_declares_422_or_fastapis_validation_schema(spec):
    text = json.dumps(spec)
    assert '"422"' not in text
    assert "HTTPValidationError" not in text
    assert spec["components"]["schemas"]["ErrorEnvelope"]["properties"]["error"]


async def test_every_operation_declares_the_errors_its_shape_implies(spec):
    missing = {
        f"{method.upper()} {path}": sorted(expected(operation) - set(operation["responses"]))
        for method, path, operation in operations(spec)
    }
    assert {op: statuses for op, statuses in missing.items() if statuses} == {}


async def test_every_declared_error_uses_the_envelope(spec):
    wrong = []
    for method, path, operation in operations(spec):
        if (method, path) in OWN_FORMAT:
            continue
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            schema = response.get("content", {}).get("application/json", {}).get("schema", {})
            if schema.get("$ref") != ENVELOPE:
                wrong.append(f"{method.upper()} {path} {status}")
    assert wrong == []


async def test_authenticated_operations_declare_what_they_answer_without_a_key(spec, api_server):
    """A real probe: each operation with a security requirement, asked without a key, answers a
    status it declares (401)."""
    async with httpx.AsyncClient(
        verify=client_context(), base_url=api_server.url, timeout=60
    ) as anonymous:
        for method, path, operation in operations(spec):
            if not operation.get("security"):
                continue
            url = path.replace("{", "").replace("}", "")
            response = await anonymous.request(method, url)
            assert str(response.status_code) in operation["responses"], (method, path)
            # Seed 002's routes spell the codes in upper case (UNAUTHORIZED, INVALID_REQUEST).
            code = response.json()["error"]["code"].lower()
            assert code in ("unauthorized", "validation_error", "invalid_request")


async def test_only_the_operations_that_start_a_job_take_its_failure_mode(spec):
    """X-Job-On-Failure says what a job being started does on failure: reads and job controls
    (listing, logs, cancel) start none and do not document it."""
    takers = set()
    for method, path, operation in operations(spec):
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        if "X-Job-On-Failure" in headers:
            takers.add((method, path))
            assert method != "get" and "Idempotency-Key" in headers, (method, path)
    assert ("post", "/api/v1/services/deploy") in takers
    assert not {("post", "/api/v1/jobs/{job_id}/cancel"), ("get", "/api/v1/jobs")} & takers


async def test_every_operation_that_needs_a_key_declares_it(spec, api_server):
    """The converse probe: the schemes are declared by JsonRoute from the routes' dependencies (not
    by FastAPI), so an operation without a security requirement must answer a caller without a
    key with something other than 401."""
    async with httpx.AsyncClient(
        verify=client_context(), base_url=api_server.url, timeout=60
    ) as anonymous:
        for method, path, operation in operations(spec):
            if operation.get("security"):
                continue
            url = path.replace("{", "").replace("}", "")
            response = await anonymous.request(method, url)
            assert response.status_code != 401, (method, path, response.text)
