"""What a request body must be before anything acts on it (issue 7, findings 6 and 9): at most the
size limit (413), JSON (415), well-formed JSON without duplicate keys (400 saying where), of the
strict types the schema declares, and within every field's limit (400 naming the field). None of
these starts a job."""

from __future__ import annotations

import json

import pytest

from api.http import BodyLimit
from contracts.limits import json_size
from contracts.provisioning.services import MAX_ENV_VARS, MAX_LABELS, ServiceSpec
from contracts.task_queues import on_platform_queues
from tests.helpers.platform import unique_name
from tests.helpers.provisioning import IMAGE

DEPLOY = "/api/v1/services/deploy"


async def job_count(client, settings) -> int:
    return (await client.count_workflows(on_platform_queues(settings.task_queue))).count


def deploy_body(**fields) -> dict:
    return {"service_name": unique_name("hyg"), "image": IMAGE, **fields}


def error_of(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    return error


# --- 413 -----------------------------------------------------------------------------------------


async def test_a_body_over_the_request_limit_answers_413_and_starts_no_job(api, client, settings):
    limit = settings.max_request_bytes
    body = json.dumps(deploy_body(env_vars={"BIG": "x" * limit})).encode()
    before = await job_count(client, settings)
    response = await api.post(DEPLOY, content=body, headers={"Content-Type": "application/json"})
    error = error_of(response, 413, "payload_too_large")
    assert error["details"]["limit_bytes"] == limit
    assert await job_count(client, settings) == before


async def test_a_chunked_body_over_the_limit_is_counted_and_refused(api, client, settings):
    chunk = b" " * 65536

    async def chunks():
        yield b'{"service_name": "chunked", "image": "' + IMAGE.encode() + b'"'
        for _ in range(settings.max_request_bytes // len(chunk) + 1):
            yield chunk
        yield b"}"

    before = await job_count(client, settings)
    response = await api.post(
        DEPLOY, content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    error_of(response, 413, "payload_too_large")
    assert await job_count(client, settings) == before


@pytest.mark.parametrize("last_chunk_crosses", [True, False])
async def test_the_limit_answers_whether_or_not_the_crossing_chunk_is_the_last(last_chunk_crosses):
    """Direct on the middleware: how a server splits a body into messages is up to the server."""
    limit = 1024
    if last_chunk_crosses:
        messages = [(b"x" * 1000, True), (b"x" * 100, False)]
    else:
        messages = [(b"x" * 1000, True), (b"x" * 100, True), (b"x" * 100, False)]
    pending = [{"type": "http.request", "body": b, "more_body": more} for b, more in messages]
    sent: list[dict] = []

    async def receive():
        assert pending, "read past the end of the body: a real server would hang here"
        return pending.pop(0)

    async def send(message):
        sent.append(message)

    async def app(*_):
        raise AssertionError("the app ran for a refused body")

    scope = {"type": "http", "method": "POST", "path": "/", "headers": []}
    await BodyLimit(app, max_bytes=limit)(scope, receive, send)
    assert sent[0]["status"] == 413
    assert pending == []  # the rest was drained, so the client can read the answer


async def test_a_body_just_under_the_limit_reaches_validation(api, settings):
    padding = " " * (settings.max_request_bytes - 200)
    body = json.dumps(deploy_body(port="eighty")) + padding
    response = await api.post(DEPLOY, content=body, headers={"Content-Type": "application/json"})
    error_of(response, 400, "validation_error")


# --- 415 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("text/plain", b'{"service_name": "x"}'),
        ("application/x-www-form-urlencoded", b"service_name=x&image=y"),
        ("application/xml", b"<deploy><service_name>x</service_name></deploy>"),
        (None, b'{"service_name": "x"}'),
    ],
)
async def test_a_body_that_is_not_json_answers_415(api, client, settings, content_type, content):
    headers = {"Content-Type": content_type} if content_type else {}
    before = await job_count(client, settings)
    response = await api.post(DEPLOY, content=content, headers=headers)
    error_of(response, 415, "unsupported_media_type")
    assert await job_count(client, settings) == before


async def test_every_operation_that_takes_a_body_refuses_one_that_is_not_json(api):
    """Guards the mechanism: a router that skipped the JSON route class would answer 400 here."""
    spec = (await api.get("/openapi.json")).json()
    checked = 0
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if "requestBody" not in operation:
                continue
            url = path.replace("{", "").replace("}", "")  # any value: the body is refused first
            response = await api.request(
                method, url, content=b"a=b", headers={"Content-Type": "text/plain"}
            )
            assert response.status_code == 415, (method, path, response.text)
            checked += 1
    assert checked >= 8


async def test_json_media_types_with_parameters_and_suffixes_are_json(api):
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        response = await api.post(
            DEPLOY, content=b'{"service_name": 1}', headers={"Content-Type": content_type}
        )
        error_of(response, 400, "validation_error")


# --- malformed JSON, duplicates ------------------------------------------------------------------


async def test_malformed_json_says_where_it_is_broken(api):
    body = b'{\n  "service_name": "x",\n  "image": "y"\n  "port": 80\n}'
    response = await api.post(DEPLOY, content=body, headers={"Content-Type": "application/json"})
    error = error_of(response, 400, "validation_error")
    assert "line 4, column 3" in error["message"], error
    assert (error["details"]["line"], error["details"]["column"]) == (4, 3)
    assert [f["field"] for f in error["details"]["fields"]] == ["body"]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (
            b'{"service_name": "a", "image": "b", "service_name": "c"}',
            "duplicate key 'service_name'",
        ),
        (
            b'{"service_name": "a", "env_vars": {"A": "1", "A": "2"}, "image": "b"}',
            "duplicate key 'A'",
        ),
        (b'{"service_name": "a", "image": "b", "port": NaN}', "NaN is not a JSON value"),
        (b'{"service_name": "\xff"}', "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
async def test_json_that_python_would_accept_but_json_does_not_answers_400(
    api, client, settings, content, says
):
    before = await job_count(client, settings)
    response = await api.post(DEPLOY, content=content, headers={"Content-Type": "application/json"})
    error = error_of(response, 400, "validation_error")
    assert says in error["message"], error
    assert await job_count(client, settings) == before


# --- strict types --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"allow_public_access": 1}, "allow_public_access"),
        ({"allow_public_access": "true"}, "allow_public_access"),
        ({"port": "8080"}, "port"),
        ({"port": 8080.0}, "port"),
        ({"max_instances": True}, "max_instances"),
        ({"env_vars": {"A": 1}}, "env_vars.A"),
    ],
)
async def test_request_bodies_take_strict_types(api, client, settings, fields, field):
    before = await job_count(client, settings)
    response = await api.post(DEPLOY, json=deploy_body(**fields))
    error = error_of(response, 400, "validation_error")
    assert field in [f["field"] for f in error["details"]["fields"]], error
    assert await job_count(client, settings) == before


async def test_strict_bodies_still_take_enums_and_uuids_as_json_strings(api):
    created = await api.post(
        "/api/v1/external-services",
        json={"name": unique_name("strict"), "type": "REDIS", "url": "redis://127.0.0.1:1/0"},
    )
    assert created.status_code == 201, created.text
    service_id = created.json()["id"]
    database = await api.post(
        f"/api/v1/external-services/{service_id}/create_service_database",
        json={"db_name": "x", "service_name": "x", "customer_id": service_id},
    )
    # Past validation: the UUID string was taken; the refusal is about the service's type.
    assert database.status_code in (400, 404, 409), database.text
    assert "customer_id" not in database.text
    await api.delete(f"/api/v1/external-services/{service_id}")


# --- per-field limits ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"env_vars": {"BIG": "x" * (32 * 1024 + 1)}}, "env_vars.BIG"),
        ({"env_vars": {f"V{i}": "x" for i in range(MAX_ENV_VARS + 1)}}, "env_vars"),
        ({"env_vars": {f"V{i}": "x" * 30_000 for i in range(10)}}, "env_vars"),
        ({"secrets": {f"S{i}": "name" for i in range(MAX_ENV_VARS + 1)}}, "secrets"),
        ({"labels": {f"l{i}": "v" for i in range(MAX_LABELS + 1)}}, "labels"),
        ({"image": "x" * 1025}, "image"),
        ({"service_account": "x" * 256}, "service_account"),
    ],
)
async def test_a_field_over_its_limit_answers_400_naming_it(api, client, settings, fields, field):
    body = deploy_body(**fields)
    assert len(json.dumps(body)) < settings.max_request_bytes  # the field limit, not the body's
    before = await job_count(client, settings)
    response = await api.post(DEPLOY, json=body)
    error = error_of(response, 400, "validation_error")
    assert field in [f["field"] for f in error["details"]["fields"]], error
    assert await job_count(client, settings) == before


def test_the_largest_valid_deploy_input_is_far_below_temporals_payload_limit():
    name = "a" * 49
    widest_env = {f"V{i:03}" + "A" * 200: "é" * 1000 for i in range(MAX_ENV_VARS)}
    while json_size(widest_env) > 256 * 1024:
        widest_env.popitem()
    spec = ServiceSpec(
        service_name=name,
        image="i" * 1024,
        env_vars=widest_env,
        secrets={f"S{i:03}" + "A" * 250: "s" * 255 + ":latest" for i in range(MAX_ENV_VARS)},
        labels={f"k{i:02}" + "a" * 59: "v" * 63 for i in range(MAX_LABELS)},
        service_account="a" * 255,
    )
    assert len(spec.model_dump_json().encode()) < 512 * 1024  # Temporal's limit is 2 MB
