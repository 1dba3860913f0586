"""Secrets API (seed 000 §5) end to end: the real app over HTTP against the local cloud's Secret Manager."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager

import httpx
import pytest
import structlog

from providers.google.secret_manager import MAX_SECRET_BYTES, SecretStore
from providers.tls import client_context
from store.provisioning import secret_audit

BASE = "/api/v1/secrets"


def suffix() -> str:
    return uuid.uuid4().hex[:8]


def secret_value() -> str:
    """A value that appears nowhere else, so finding it anywhere is a leak."""
    return f"val-{uuid.uuid4().hex}-LEAKCHECK"


@pytest.fixture
async def cleanup(settings) -> AsyncIterator[list[str]]:
    """Names appended here are deleted from Secret Manager after the test, whatever happened."""
    names: list[str] = []
    yield names
    store = SecretStore(settings)
    for name in names:
        await asyncio.to_thread(store.delete, name)


async def create_key(api: httpx.AsyncClient, *scopes: str) -> tuple[str, str]:
    name = f"secrets-test-{'-'.join(scopes)}-{suffix()}"
    response = await api.post("/api/v1/api-keys", json={"name": name, "scopes": list(scopes)})
    assert response.status_code == 201, response.text
    return response.json()["key"], name


def client_for(api_server, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        verify=client_context(), base_url=api_server.url, headers={"X-API-Key": key}, timeout=30
    )


async def create(api, cleanup, **body) -> dict:
    body.setdefault("value", secret_value())
    response = await api.post(BASE, json=body)
    assert response.status_code == 201, response.text
    cleanup.append(response.json()["name"])
    return response.json()


async def names(api, **filters) -> set[str]:
    """Every matching name, following the pages."""
    found: set[str] = set()
    params = {**filters, "limit": 1000}
    while True:
        response = await api.get(BASE, params=params)
        assert response.status_code == 200, response.text
        found |= {s["name"] for s in response.json()}
        token = response.headers.get("X-Next-Page-Token")
        if not token:
            return found
        params = {**params, "page_token": token}


def assert_envelope(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and isinstance(error["message"], str)
    assert isinstance(error["details"], dict)
    return error


# --- create -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "extra", "name", "labels"),
    [
        ("GLOBAL", {}, "{key}", {"scope": "global"}),
        ("CUSTOMER", {"customer": "c{s}"}, "c{s}-{key}", {"scope": "customer", "customer": "c{s}"}),
        (
            "EXTERNAL",
            {"service": "pg-{s}"},
            "external-pg-{s}-{key}",
            {"scope": "external", "service": "pg-{s}"},
        ),
        (
            "MANAGED",
            {"service": "crm-{s}"},
            "managed-crm-{s}-{key}",
            {"scope": "managed", "service": "crm-{s}"},
        ),
        ("managed", {"service": "crm-{s}"}, "managed-crm-{s}-{key}", {"scope": "managed"}),
        ("Customer", {"customer": "c{s}"}, "c{s}-{key}", {"scope": "customer"}),
    ],
)
async def test_create_builds_the_name_from_the_scope_and_labels_it(
    api, cleanup, scope, extra, name, labels
):
    s, key = suffix(), f"token-{suffix()}"
    extra = {k: v.format(s=s) for k, v in extra.items()}
    value = secret_value()
    response = await api.post(BASE, json={"scope": scope, "key": key, "value": value, **extra})
    assert response.status_code == 201, response.text
    body = response.json()
    cleanup.append(body["name"])
    assert body["name"] == name.format(s=s, key=key)
    assert body["scope"] == scope.upper()
    expected = {k: v.format(s=s) for k, v in labels.items()}
    assert expected.items() <= body["labels"].items()
    assert body["labels"]["managed-by"] == "conneskills-platform"
    assert set(body) == {"name", "scope", "labels", "created_at", "updated_at"}
    assert body["created_at"] and body["updated_at"] and body["updated_at"] >= body["created_at"]
    assert value not in response.text
    # The first version holds the value.
    read = await api.get(f"{BASE}/{body['name']}/value")
    assert read.status_code == 200 and read.json() == {"name": body["name"], "value": value}


async def test_creating_an_existing_secret_answers_409_and_keeps_the_value(api, cleanup):
    key = f"dup-{suffix()}"
    first = await create(api, cleanup, scope="GLOBAL", key=key, value="first-value-1")
    again = await api.post(BASE, json={"scope": "GLOBAL", "key": key, "value": "second-value-2"})
    error = assert_envelope(again, 409, "conflict")
    assert error["details"] == {"name": first["name"]}
    assert "second-value-2" not in again.text
    assert (await api.get(f"{BASE}/{key}/value")).json()["value"] == "first-value-1"


async def test_create_needs_the_write_scope(api, api_server):
    key, _ = await create_key(api, "read")
    name = f"ro-{suffix()}"
    async with client_for(api_server, key) as reader:
        refused = await reader.post(BASE, json={"scope": "GLOBAL", "key": name, "value": "v"})
        assert_envelope(refused, 403, "forbidden")
        assert (await reader.put(f"{BASE}/{name}", json={"value": "v"})).status_code == 403
        assert (await reader.delete(f"{BASE}/{name}")).status_code == 403
    assert_envelope(await api.get(f"{BASE}/{name}"), 404, "not_found")


# --- list and metadata --------------------------------------------------------------------------


async def test_list_filters_by_scope_customer_and_service(api, cleanup):
    s = suffix()
    customer, other_customer, service = f"c{s}", f"d{s}", f"svc-{s}"
    mine = await create(api, cleanup, scope="CUSTOMER", key="api-key", customer=customer)
    theirs = await create(api, cleanup, scope="CUSTOMER", key="api-key", customer=other_customer)
    external = await create(api, cleanup, scope="EXTERNAL", key="password", service=service)
    managed = await create(api, cleanup, scope="MANAGED", key="password", service=service)
    glob = await create(api, cleanup, scope="GLOBAL", key=f"global-{s}")

    assert await names(api, customer=customer) == {mine["name"]}
    assert await names(api, scope="CUSTOMER", customer=other_customer) == {theirs["name"]}
    assert await names(api, service=service) == {external["name"], managed["name"]}
    assert await names(api, scope="external", service=service) == {external["name"]}
    assert await names(api, scope="MANAGED", service=service) == {managed["name"]}

    every = await names(api)
    assert {mine["name"], theirs["name"], external["name"], managed["name"], glob["name"]} <= every
    globals_ = await names(api, scope="global")
    assert glob["name"] in globals_ and mine["name"] not in globals_
    listed = (await api.get(BASE, params={"service": service})).json()
    assert all(
        set(item) == {"name", "scope", "labels", "created_at", "updated_at"} for item in listed
    )
    assert {item["scope"] for item in listed} == {"EXTERNAL", "MANAGED"}


async def test_the_list_pages_with_a_token_and_counts_the_matches(api, cleanup):
    customer = f"p{suffix()}"
    made = {
        (await create(api, cleanup, scope="CUSTOMER", key=f"k{i}", customer=customer))["name"]
        for i in range(3)
    }
    first = await api.get(BASE, params={"customer": customer, "limit": 2})
    assert first.status_code == 200 and len(first.json()) == 2
    assert first.headers["X-Total-Count"] == "3"
    token = first.headers["X-Next-Page-Token"]
    second = await api.get(BASE, params={"customer": customer, "limit": 2, "page_token": token})
    assert second.headers["X-Total-Count"] == "3" and "X-Next-Page-Token" not in second.headers
    assert {s["name"] for s in first.json() + second.json()} == made
    bad = await api.get(BASE, params={"customer": customer, "page_token": "nonsense"})
    assert_envelope(bad, 400, "validation_error")


async def test_metadata_never_contains_the_value(api, cleanup):
    value = secret_value()
    created = await create(api, cleanup, scope="GLOBAL", key=f"meta-{suffix()}", value=value)
    name = created["name"]
    got = await api.get(f"{BASE}/{name}")
    assert got.status_code == 200
    assert got.json() == {**created, "updated_at": got.json()["updated_at"]}
    listed = await api.get(BASE, params={"scope": "GLOBAL"})
    updated = await api.put(f"{BASE}/{name}", json={"value": value + "-2"})
    for response in (got, listed, updated):
        assert response.status_code == 200
        assert value not in response.text
    assert name in {s["name"] for s in listed.json()}


async def test_unknown_secrets_answer_404_with_the_envelope(api):
    name = f"missing-{suffix()}"
    error = assert_envelope(await api.get(f"{BASE}/{name}"), 404, "not_found")
    assert error["details"] == {"name": name}
    assert_envelope(await api.get(f"{BASE}/{name}/value"), 404, "not_found")
    assert_envelope(await api.put(f"{BASE}/{name}", json={"value": "v"}), 404, "not_found")
    assert_envelope(await api.delete(f"{BASE}/{name}"), 404, "not_found")
    # PUT on a missing secret creates nothing.
    assert_envelope(await api.get(f"{BASE}/{name}"), 404, "not_found")


# --- values and their audit -------------------------------------------------------------------


async def audit_rows(db, name: str):
    async with db.transaction() as session:
        return await secret_audit.for_secret(session, name)


def assert_clean(rows, *values: str) -> None:
    for row in rows:
        columns = [str(getattr(row, c)) for c in row.__table__.columns.keys()]  # noqa: SIM118
        for value in values:
            assert all(value not in column for column in columns), "value in an audit row"


async def test_reading_a_value_with_the_admin_key_is_audited(api, db, cleanup):
    value = secret_value()
    name = (await create(api, cleanup, scope="GLOBAL", key=f"adm-{suffix()}", value=value))["name"]
    assert await audit_rows(db, name) == []

    response = await api.get(f"{BASE}/{name}/value")
    assert response.status_code == 200
    assert response.json() == {"name": name, "value": value}
    assert response.headers["cache-control"] == "no-store"

    rows = await audit_rows(db, name)
    assert len(rows) == 1
    row = rows[0]
    assert row.secret_name == name and row.api_key_name == "admin"
    assert row.action == "read_value" and row.detail == "ok" and row.api_key_id is not None
    assert row.accessed_at is not None
    assert_clean(rows, value)


async def test_a_secrets_key_reads_values_and_each_read_is_audited(api, api_server, db, cleanup):
    value = secret_value()
    name = (await create(api, cleanup, scope="GLOBAL", key=f"sec-{suffix()}", value=value))["name"]
    key, key_name = await create_key(api, "secrets")
    async with client_for(api_server, key) as reader:
        for _ in range(2):
            response = await reader.get(f"{BASE}/{name}/value")
            assert response.status_code == 200 and response.json()["value"] == value
        # The secrets scope is for values only: metadata still needs read.
        assert (await reader.get(f"{BASE}/{name}")).status_code == 403
        missing = f"gone-{suffix()}"
        assert_envelope(await reader.get(f"{BASE}/{missing}/value"), 404, "not_found")

    rows = await audit_rows(db, name)
    assert [(r.api_key_name, r.detail) for r in rows] == [(key_name, "ok"), (key_name, "ok")]
    assert rows[0].accessed_at >= rows[1].accessed_at
    assert_clean(rows, value, key)
    not_found_rows = await audit_rows(db, missing)
    assert [(r.api_key_name, r.action, r.detail) for r in not_found_rows] == [
        (key_name, "read_value", "not_found")
    ]

    # The admin-only audit listing shows the same rows, newest first, without the value.
    listed = await api.get(f"{BASE}/{name}/audit")
    assert listed.status_code == 200
    entries = listed.json()
    assert [(e["api_key_name"], e["detail"]) for e in entries] == [(key_name, "ok")] * 2
    assert set(entries[0]) == {
        "id",
        "secret_name",
        "api_key_id",
        "api_key_name",
        "action",
        "accessed_at",
        "detail",
    }
    assert value not in listed.text
    async with client_for(api_server, key) as reader:
        assert_envelope(await reader.get(f"{BASE}/{name}/audit"), 403, "forbidden")


@pytest.mark.parametrize("scopes", [("read",), ("write",), ("read", "write")])
async def test_reading_a_value_without_the_secrets_scope_is_refused_and_audited(
    api, api_server, db, cleanup, scopes
):
    value = secret_value()
    name = (await create(api, cleanup, scope="GLOBAL", key=f"deny-{suffix()}", value=value))["name"]
    key, key_name = await create_key(api, *scopes)
    async with client_for(api_server, key) as other:
        refused = await other.get(f"{BASE}/{name}/value")
    error = assert_envelope(refused, 403, "forbidden")
    assert error["details"] == {"scope": "secrets"}
    assert value not in refused.text
    rows = await audit_rows(db, name)
    assert [(r.api_key_name, r.detail) for r in rows] == [(key_name, "denied")]


async def test_reading_a_value_needs_a_key(api_server, api, cleanup):
    name = (await create(api, cleanup, scope="GLOBAL", key=f"anon-{suffix()}"))["name"]
    async with httpx.AsyncClient(
        verify=client_context(), base_url=api_server.url, timeout=60
    ) as anonymous:
        assert_envelope(await anonymous.get(f"{BASE}/{name}/value"), 401, "unauthorized")


# --- update and delete --------------------------------------------------------------------------


async def test_put_adds_a_version_with_the_new_value(api, cleanup, settings):
    created = await create(api, cleanup, scope="GLOBAL", key=f"rot-{suffix()}", value="old-value")
    name = created["name"]
    new = secret_value()
    response = await api.put(f"{BASE}/{name}", json={"value": new})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == name and body["labels"] == created["labels"]
    assert body["created_at"] == created["created_at"]
    assert body["updated_at"] >= created["updated_at"]
    assert new not in response.text
    assert (await api.get(f"{BASE}/{name}/value")).json()["value"] == new
    assert (await api.get(f"{BASE}/{name}")).json()["updated_at"] == body["updated_at"]
    # The old value stays as version 1.
    assert await asyncio.to_thread(SecretStore(settings).access, name, "1") == "old-value"


async def test_delete_answers_204_then_404(api, cleanup):
    name = (await create(api, cleanup, scope="GLOBAL", key=f"del-{suffix()}"))["name"]
    deleted = await api.delete(f"{BASE}/{name}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert_envelope(await api.get(f"{BASE}/{name}"), 404, "not_found")
    assert_envelope(await api.delete(f"{BASE}/{name}"), 404, "not_found")
    assert name not in await names(api)


# --- malformed input ------------------------------------------------------------------------------

OVERSIZE_MARKER = "OVERSIZE-MARKER-7f3a"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scope": "GLOBAL", "key": "Bad_Key"}, "key"),
        ({"scope": "GLOBAL", "key": "a b"}, "key"),
        ({"scope": "GLOBAL", "key": "x;y"}, "key"),
        ({"scope": "GLOBAL", "key": "x/y"}, "key"),
        ({"scope": "GLOBAL", "key": ""}, "key"),
        ({"scope": "GLOBAL", "key": "k" * 201}, "key"),
        ({"scope": "CUSTOMER", "key": "k"}, "customer"),
        ({"scope": "CUSTOMER", "key": "k", "customer": "Acme"}, "customer"),
        ({"scope": "CUSTOMER", "key": "k", "customer": "acme", "service": "s"}, "service"),
        ({"scope": "EXTERNAL", "key": "k"}, "service"),
        ({"scope": "MANAGED", "key": "k"}, "service"),
        ({"scope": "EXTERNAL", "key": "k", "service": "Bad_Service"}, "service"),
        ({"scope": "EXTERNAL", "key": "k" * 200, "service": "s" * 63}, "service"),
        ({"scope": "GLOBAL", "key": "k", "customer": "acme"}, "customer"),
        ({"scope": "GLOBAL", "key": "k", "service": "svc"}, "service"),
        ({"scope": "SECRET", "key": "k"}, "scope"),
        ({"scope": "", "key": "k"}, "scope"),
        ({"key": "k"}, "scope"),
        ({"scope": 1, "key": "k"}, "scope"),
        ({"scope": "GLOBAL", "key": 12}, "key"),
        ({"scope": "GLOBAL", "key": ["k"]}, "key"),
        ({"scope": "GLOBAL", "key": "k", "value": 12345}, "value"),
        ({"scope": "GLOBAL", "key": "k", "value": None}, "value"),
        ({"scope": "GLOBAL", "key": "k", "value": {"a": "b"}}, "value"),
        ({"scope": "GLOBAL", "key": "k", "value": ""}, "value"),
        ({"scope": "GLOBAL", "key": "k", "value": OVERSIZE_MARKER * 4000}, "value"),
        ({"scope": "GLOBAL", "key": "k", "value": "x" * (MAX_SECRET_BYTES + 1)}, "value"),
        # Under the limit in characters, over it in UTF-8 bytes.
        ({"scope": "GLOBAL", "key": "k", "value": "é" * (MAX_SECRET_BYTES // 2 + 1)}, "value"),
        ({"scope": "GLOBAL", "key": "k", "labels": {"a": "b"}}, "labels"),
    ],
)
async def test_malformed_create_bodies_answer_400_and_create_nothing(api, body, field):
    body = dict(body)
    unique = f"m{suffix()}"
    if isinstance(body.get("key"), str) and body["key"] == "k":
        body["key"] = unique  # a name that would exist only if the request went through
    body.setdefault("value", f"{OVERSIZE_MARKER}-{unique}")
    before = await names(api)
    response = await api.post(BASE, json=body)
    error = assert_envelope(response, 400, "validation_error")
    assert field in [f["field"] for f in error["details"]["fields"]], error
    if isinstance(body["value"], str) and body["value"]:
        assert OVERSIZE_MARKER not in response.text and body["value"] not in response.text
    assert await names(api) == before
    assert_envelope(await api.get(f"{BASE}/{unique}"), 404, "not_found")


@pytest.mark.parametrize(
    "content",
    [
        b'{"scope": "GLOBAL", "key": "k", "value": "bad-json-value"',
        b"not json at all",
        b"[]",
        b'"a string"',
        b"null",
        b"",
        b"\xff\xfe",
    ],
)
async def test_invalid_json_bodies_answer_400(api, content):
    before = await names(api)
    for method, path in (("POST", BASE), ("PUT", f"{BASE}/some-secret")):
        response = await api.request(
            method, path, content=content, headers={"Content-Type": "application/json"}
        )
        assert_envelope(response, 400, "validation_error")
        assert "bad-json-value" not in response.text
    assert await names(api) == before


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"value": ""},
        {"value": 5},
        {"value": OVERSIZE_MARKER * 5000},
        {"value": "v", "scope": "GLOBAL"},
    ],
)
async def test_malformed_update_bodies_answer_400_and_keep_the_value(api, cleanup, body):
    value = secret_value()
    name = (await create(api, cleanup, scope="GLOBAL", key=f"upd-{suffix()}", value=value))["name"]
    response = await api.put(f"{BASE}/{name}", json=body)
    assert_envelope(response, 400, "validation_error")
    assert OVERSIZE_MARKER not in response.text
    assert (await api.get(f"{BASE}/{name}/value")).json()["value"] == value


@pytest.mark.parametrize(
    "name", ["bad.name", "bad%20name", "bad%3Bname", "x" * 256, "caf%C3%A9", "a%2Fb"]
)
async def test_names_outside_the_secret_manager_rule_answer_400(api, name):
    for method, path in (
        ("GET", f"{BASE}/{name}"),
        ("GET", f"{BASE}/{name}/value"),
        ("GET", f"{BASE}/{name}/audit"),
        ("DELETE", f"{BASE}/{name}"),
    ):
        response = await api.request(method, path)
        assert response.status_code in (400, 404), (method, path, response.text)
        assert "error" in response.json()
    response = await api.get(f"{BASE}/{name}")
    if "%2F" not in name:  # an encoded slash is a different route, which does not exist: 404
        assert_envelope(response, 400, "validation_error")


@pytest.mark.parametrize(
    "params",
    [
        {"scope": "SECRET"},
        {"scope": ""},
        {"customer": "Acme"},
        {"customer": "a b"},
        {"service": "bad_service"},
        {"service": "x" * 64},
    ],
)
async def test_bad_list_filters_answer_400(api, params):
    assert_envelope(await api.get(BASE, params=params), 400, "validation_error")


async def test_bad_audit_limit_answers_400(api):
    assert_envelope(await api.get(f"{BASE}/x/audit", params={"limit": 0}), 400, "validation_error")
    assert_envelope(
        await api.get(f"{BASE}/x/audit", params={"limit": "many"}), 400, "validation_error"
    )


# --- upstream failures ------------------------------------------------------------------------


async def test_a_503_on_create_answers_503_and_creates_nothing(api, localcloud, cleanup):
    key = f"flaky-{suffix()}"
    value = secret_value()
    try:
        outage = localcloud.inject_fault(
            fail_next=1, code=503, method="POST", path_contains=f"secretId={key}"
        )
        response = await api.post(BASE, json={"scope": "GLOBAL", "key": key, "value": value})
    finally:
        localcloud.clear_faults()
    assert_envelope(response, 503, "unavailable")
    assert localcloud.fired(outage) == 1
    assert value not in response.text
    assert_envelope(await api.get(f"{BASE}/{key}"), 404, "not_found")
    # The retry succeeds.
    await create(api, cleanup, scope="GLOBAL", key=key, value=value)


async def test_a_failed_first_version_rolls_the_secret_back(api, localcloud, cleanup):
    key = f"half-{suffix()}"
    value = secret_value()
    try:
        outage = localcloud.inject_fault(
            fail_next=1, code=503, method="POST", path_contains=f"/secrets/{key}:addVersion"
        )
        response = await api.post(BASE, json={"scope": "GLOBAL", "key": key, "value": value})
    finally:
        localcloud.clear_faults()
    assert_envelope(response, 503, "unavailable")
    assert localcloud.fired(outage) == 1
    assert value not in response.text
    assert_envelope(await api.get(f"{BASE}/{key}"), 404, "not_found")
    assert key not in await names(api)
    # Nothing half-made blocks the retry.
    created = await create(api, cleanup, scope="GLOBAL", key=key, value=value)
    assert (await api.get(f"{BASE}/{created['name']}/value")).json()["value"] == value


async def test_a_conflict_never_deletes_the_existing_secret(api, localcloud, cleanup):
    key = f"keep-{suffix()}"
    await create(api, cleanup, scope="GLOBAL", key=key, value="original")
    try:
        # Would fail the version if the conflicting create went on to add one.
        tripwire = localcloud.inject_fault(
            fail_next=1, code=503, method="POST", path_contains=f"/secrets/{key}:addVersion"
        )
        response = await api.post(BASE, json={"scope": "GLOBAL", "key": key, "value": "other"})
    finally:
        localcloud.clear_faults()
    assert_envelope(response, 409, "conflict")
    assert localcloud.fired(tripwire) == 0
    assert (await api.get(f"{BASE}/{key}/value")).json()["value"] == "original"


async def test_a_done_write_is_reported_done_even_if_its_time_cannot_be_read(
    api, localcloud, cleanup
):
    key = f"done-{suffix()}"
    value = secret_value()
    try:
        unreadable = localcloud.inject_fault(
            fail_next=2, code=503, method="GET", path_contains=f"/secrets/{key}/versions/"
        )
        created = await api.post(BASE, json={"scope": "GLOBAL", "key": key, "value": value})
        cleanup.append(key)
        updated = await api.put(f"{BASE}/{key}", json={"value": value + "-2"})
    finally:
        localcloud.clear_faults()
    assert localcloud.fired(unreadable) == 2
    assert created.status_code == 201, created.text
    assert created.json()["updated_at"] == created.json()["created_at"]
    assert updated.status_code == 200, updated.text
    assert (await api.get(f"{BASE}/{key}/value")).json()["value"] == value + "-2"


@pytest.mark.parametrize(
    ("method", "path_contains", "call", "upstream", "status", "code"),
    [
        # A listing names no secret: its path is the only one ending in `/secrets?`.
        ("GET", "/secrets?", ("GET", ""), 503, 503, "unavailable"),
        ("GET", "/secrets/{name}", ("GET", "/{name}"), 503, 503, "unavailable"),
        ("GET", "/secrets/{name}", ("GET", "/{name}"), 429, 503, "unavailable"),
        ("POST", "/secrets/{name}:addVersion", ("PUT", "/{name}"), 503, 503, "unavailable"),
        ("DELETE", "/secrets/{name}", ("DELETE", "/{name}"), 503, 503, "unavailable"),
        (
            "GET",
            "/secrets/{name}/versions/latest:access",
            ("GET", "/{name}/value"),
            503,
            503,
            "unavailable",
        ),
        (
            "GET",
            "/secrets/{name}/versions/latest:access",
            ("GET", "/{name}/value"),
            500,
            502,
            "upstream_error",
        ),
        ("GET", "/secrets/{name}", ("GET", "/{name}"), 403, 502, "upstream_error"),
    ],
)
async def test_upstream_failures_answer_with_the_envelope(
    api, localcloud, db, cleanup, method, path_contains, call, upstream, status, code
):
    value = secret_value()
    name = (await create(api, cleanup, scope="GLOBAL", key=f"up-{suffix()}", value=value))["name"]
    verb, path = call
    try:
        fault = localcloud.inject_fault(
            fail_next=1, code=upstream, method=method, path_contains=path_contains.format(name=name)
        )
        response = await api.request(
            verb,
            BASE + path.format(name=name),
            json={"value": "new-" + value} if verb == "PUT" else None,
        )
    finally:
        localcloud.clear_faults()
    assert_envelope(response, status, code)
    assert localcloud.fired(fault) == 1
    assert value not in response.text
    if path.endswith("/value"):
        rows = await audit_rows(db, name)
        assert [r.detail for r in rows] == ["upstream_error"]
    # The secret is still there, with its value.
    assert (await api.get(f"{BASE}/{name}/value")).json()["value"] == value


# --- logs and docs ------------------------------------------------------------------------------


@contextmanager
def captured_logs() -> Iterator[list[str]]:
    """Everything the process logs meanwhile: structlog events as handed to the logger (before the
    redaction processor, so a value passed under any key counts) and stdlib log records."""
    lines: list[str] = []

    def tap(_logger, _method, event_dict):
        lines.append(repr(event_dict))
        return event_dict

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(f"{record.getMessage()} {record.__dict__!r}")

    # Cached structlog loggers share the configured processor list, so the tap sees them too.
    processors = structlog.get_config()["processors"]
    handler = Handler(level=logging.DEBUG)
    processors.insert(0, tap)
    logging.getLogger().addHandler(handler)
    try:
        yield lines
    finally:
        processors.remove(tap)
        logging.getLogger().removeHandler(handler)


async def test_values_never_reach_the_logs(api, cleanup, capfd):
    value = secret_value()
    updated = secret_value()
    oversize = value + "x" * MAX_SECRET_BYTES
    key = f"logs-{suffix()}"
    capfd.readouterr()
    with captured_logs() as lines:
        name = (await create(api, cleanup, scope="GLOBAL", key=key, value=value))["name"]
        assert (await api.get(f"{BASE}/{name}/value")).json()["value"] == value
        assert (await api.put(f"{BASE}/{name}", json={"value": updated})).status_code == 200
        assert (await api.get(f"{BASE}/{name}/value")).json()["value"] == updated
        assert (await api.put(f"{BASE}/{name}", json={"value": oversize})).status_code == 400
        again = await api.post(BASE, json={"scope": "GLOBAL", "key": key, "value": value})
        assert again.status_code == 409
    captured = capfd.readouterr()
    text = "\n".join(lines) + captured.out + captured.err
    assert "secret value read" in text and "secret created" in text, "logs were not captured"
    assert name in text
    assert value not in text and updated not in text


async def test_openapi_documents_the_secret_bodies_with_examples(api_server):
    async with httpx.AsyncClient(
        verify=client_context(), base_url=api_server.url, timeout=60
    ) as anonymous:
        spec = (await anonymous.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    for name in ("SecretCreateRequest", "SecretUpdateRequest"):
        assert schemas[name]["examples"], name
    assert "value" not in schemas["SecretResponse"]["properties"]
    assert set(spec["paths"][f"{BASE}/{{name}}"]) == {"get", "put", "delete"}
    json.dumps(spec)  # serialisable
