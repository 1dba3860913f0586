"""External services (seed 000 §2.1–2.9) end to end: the API over HTTP → Secret Manager in the local
cloud → the real PostgreSQL, MariaDB and Redis on this machine. Every response body of every test is
checked for the secret values the test stored."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from providers.service_templates import SUPPORTED_TYPES
from providers.tls import client_context
from tests.helpers.external_services import (
    BASE,
    assert_not_registered,
    create,
    key_with,
    operation,
    pg_database_exists,
    postgres_service,
    redis_service,
    unique,
)
from tests.helpers.platform import MYSQL_URL, POSTGRES_URL, REDIS_URL, free_port

# --- create -----------------------------------------------------------------------------------------


async def test_postgres_mysql_and_redis_services_are_registered_healthy(http, secrets):
    pg = await postgres_service(
        http,
        secrets,
        cloud_console="https://console.example.com/pg",
        metadata={"provider": "local"},
    )
    username = await secrets.create("root", sensitive=False)
    mysql = await create(
        http,
        name=unique("mysql"),
        type="MySQL",
        url=MYSQL_URL,
        secret_refs={"username": username},
    )
    redis_svc = await redis_service(http, secrets)

    for service, service_type in ((pg, "postgres"), (mysql, "mysql"), (redis_svc, "redis")):
        assert service["type"] == service_type
        assert service["health_status"] == "healthy", service
        assert service["last_health_check"] and service["created_at"] and service["updated_at"]
        assert service["active"] is True
        uuid.UUID(service["id"])
        fetched = (await http.get(f"{BASE}/{service['id']}")).json()
        assert fetched["name"] == service["name"]
        assert fetched["health_status"] == "healthy"
    assert pg["url"] == POSTGRES_URL
    assert pg["cloud_console"] == "https://console.example.com/pg"
    assert pg["metadata"] == {"provider": "local"}
    assert set(pg["secret_refs"]) == {"password"}
    assert pg["secret_refs"]["password"] in secrets.names
    assert mysql["secret_refs"] == {"username": username}


async def test_a_missing_secret_ref_is_refused_naming_it_and_nothing_is_stored(http, secrets):
    present, _ = await secrets.password()
    missing = f"es-missing-{uuid.uuid4().hex[:8]}"
    name = unique("pg")
    response = await http.post(
        BASE,
        json={
            "name": name,
            "type": "postgres",
            "url": POSTGRES_URL,
            "secret_refs": {"password": missing, "username": present},
        },
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["details"]["missing"] == [missing]
    assert missing in error["message"] and present not in error["message"]
    await assert_not_registered(http, name)


async def test_a_duplicate_name_answers_409(http, secrets):
    service = await postgres_service(http, secrets)
    again = await http.post(
        BASE, json={"name": service["name"], "type": "redis", "url": "redis://127.0.0.1:6379/0"}
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    assert (await http.get(f"{BASE}/name/{service['name']}")).json()["type"] == "postgres"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "oracle"}, "type"),
        ({"url": "postgresql://postgres:hunter2hunter2@127.0.0.1:5432/test"}, "url"),
        ({"url": "https://api.example.com/?api_key=hunter2hunter2"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"secret_refs": {"private_key": "some-secret"}}, "secret_refs.private_key.[key]"),
        ({"secret_refs": {"password": "projects/p/secrets/x"}}, "secret_refs.password"),
        ({"secret_refs": {"password": ""}}, "secret_refs.password"),
        ({"name": "Bad Name"}, "name"),
        ({"name": "-starts-with-dash"}, "name"),
        ({"cloud_console": "javascript:alert(1)"}, "cloud_console"),
        ({"metadata": "not-an-object"}, "metadata"),
        ({"active": "maybe"}, "active"),
        ({"health_status": "healthy"}, "health_status"),
    ],
)
async def test_malformed_create_bodies_answer_400_and_store_nothing(http, body, field):
    name = unique("bad")
    payload = {"name": name, "type": "postgres", "url": POSTGRES_URL, **body}
    response = await http.post(BASE, json=payload)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    fields = {f["field"]: f["message"] for f in error["details"]["fields"]}
    assert field in fields, fields
    assert "hunter2hunter2" not in response.text
    if field == "type":
        for valid in SUPPORTED_TYPES:
            assert valid.value in fields["type"]
    if field == "url" and "hunter2" in str(body):
        assert "secret" in fields["url"]
    await assert_not_registered(http, payload["name"])


async def test_non_object_bodies_answer_400(http):
    for body in ([], "text", None):
        response = await http.post(BASE, json=body)
        assert response.status_code == 400, response.text


# --- read -------------------------------------------------------------------------------------------


async def test_list_filters_by_type_and_activity(http, secrets):
    pg = await postgres_service(http, secrets)
    inactive = await redis_service(http, secrets, active=False)

    default = (await http.get(BASE)).json()
    names = {s["name"] for s in default}
    assert pg["name"] in names and inactive["name"] not in names
    assert set(default[0]) == {"id", "name", "type"}

    everything = {s["name"] for s in (await http.get(BASE, params={"active_only": "false"})).json()}
    assert {pg["name"], inactive["name"]} <= everything

    only_pg = (await http.get(BASE, params={"type": "postgres", "active_only": "false"})).json()
    assert {s["type"] for s in only_pg} == {"postgres"}
    assert pg["name"] in {s["name"] for s in only_pg}

    redis_all = (await http.get(BASE, params={"type": "REDIS", "active_only": "false"})).json()
    assert inactive["name"] in {s["name"] for s in redis_all}
    redis_active = (await http.get(BASE, params={"type": "redis"})).json()
    assert inactive["name"] not in {s["name"] for s in redis_active}

    unknown = await http.get(BASE, params={"type": "oracle"})
    assert unknown.status_code == 400
    assert "postgres" in unknown.json()["error"]["details"]["valid_types"]
    assert (await http.get(BASE, params={"active_only": "perhaps"})).status_code == 400


async def test_the_list_pages_by_offset_and_counts_the_matches(http, secrets):
    for _ in range(3):
        await redis_service(http, secrets)
    everything = await http.get(BASE, params={"active_only": "false", "limit": 1000})
    names = [s["name"] for s in everything.json()]
    assert everything.headers["X-Total-Count"] == str(len(names)) and len(names) >= 3
    page = await http.get(BASE, params={"active_only": "false", "limit": 2, "offset": 1})
    assert [s["name"] for s in page.json()] == names[1:3]
    assert page.headers["X-Total-Count"] == str(len(names))
    assert (await http.get(BASE, params={"limit": 0})).status_code == 400
    assert (await http.get(BASE, params={"offset": -1})).status_code == 400


async def test_get_by_id_and_by_name_and_not_found_and_malformed_ids(http, secrets):
    service = await postgres_service(http, secrets)
    by_id = await http.get(f"{BASE}/{service['id']}")
    by_name = await http.get(f"{BASE}/name/{service['name']}")
    assert by_id.status_code == by_name.status_code == 200
    assert by_id.json() == by_name.json()
    for field in (
        "id",
        "name",
        "type",
        "url",
        "cloud_console",
        "metadata",
        "secret_refs",
        "active",
        "health_status",
        "last_health_check",
        "created_at",
        "updated_at",
    ):
        assert field in by_id.json()

    for path in (f"{BASE}/{uuid.uuid4()}", f"{BASE}/name/es-t-does-not-exist"):
        response = await http.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"

    for path in (
        f"{BASE}/not-a-uuid",
        f"{BASE}/12345",
        f"{BASE}/not-a-uuid/details",
        f"{BASE}/name/Bad%20Name",
    ):
        response = await http.get(path)
        assert response.status_code == 400, (path, response.text)
        assert response.json()["error"]["code"] == "validation_error"
    assert (await http.delete(f"{BASE}/not-a-uuid")).status_code == 400
    assert (await http.put(f"{BASE}/not-a-uuid", json={"active": False})).status_code == 400
    assert (await operation(http, "not-a-uuid", "list_databases")).status_code == 400


# --- update -----------------------------------------------------------------------------------------


async def test_update_changes_only_the_fields_sent(http, secrets):
    service = await postgres_service(
        http, secrets, cloud_console="https://console.example.com/a", metadata={"tier": "free"}
    )
    response = await http.put(
        f"{BASE}/{service['id']}", json={"cloud_console": "https://console.example.com/b"}
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert updated["cloud_console"] == "https://console.example.com/b"
    for unchanged in ("name", "type", "url", "metadata", "secret_refs", "active", "created_at"):
        assert updated[unchanged] == service[unchanged], unchanged
    assert updated["updated_at"] >= service["updated_at"]

    updated = (await http.put(f"{BASE}/{service['id']}", json={"metadata": {"tier": "pro"}})).json()
    assert updated["metadata"] == {"tier": "pro"}
    assert updated["cloud_console"] == "https://console.example.com/b"

    new_ref, _ = await secrets.password()
    updated = (
        await http.put(
            f"{BASE}/{service['id']}", json={"secret_refs": {"password": new_ref}, "active": False}
        )
    ).json()
    assert updated["secret_refs"] == {"password": new_ref} and updated["active"] is False
    assert updated["health_status"] == "healthy"

    updated = (await http.put(f"{BASE}/{service['id']}", json={"cloud_console": None})).json()
    assert updated["cloud_console"] is None and updated["metadata"] == {"tier": "pro"}
    assert (await http.get(f"{BASE}/{service['id']}")).json() == updated

    missing = await http.put(f"{BASE}/{uuid.uuid4()}", json={"active": True})
    assert missing.status_code == 404


async def test_a_refused_update_changes_nothing(http, secrets):
    service = await postgres_service(http, secrets)
    before = (await http.get(f"{BASE}/{service['id']}")).json()
    absent = f"es-missing-{uuid.uuid4().hex[:8]}"
    response = await http.put(
        f"{BASE}/{service['id']}",
        json={"secret_refs": {"password": absent}, "cloud_console": "https://x.example.com"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"]["missing"] == [absent]
    for body in (
        {"url": "postgresql://postgres:hunter2hunter2@127.0.0.1/test"},
        {"name": "renamed"},
        {"type": "redis"},
        {"metadata": None},
        {"secret_refs": {"pin": "x"}},
    ):
        refused = await http.put(f"{BASE}/{service['id']}", json=body)
        assert refused.status_code == 400, (body, refused.text)
        assert "hunter2hunter2" not in refused.text
    assert (await http.get(f"{BASE}/{service['id']}")).json() == before


# --- details, health --------------------------------------------------------------------------------


async def test_details_run_a_live_health_check_and_list_operations(http, secrets):
    service = await postgres_service(http, secrets)
    response = await http.get(f"{BASE}/{service['id']}/details")
    assert response.status_code == 200, response.text
    details = response.json()
    assert details["name"] == service["name"]
    assert details["health_status"] == "healthy"
    assert "PostgreSQL" in details["health_message"]
    assert "latency_ms" in details["health_details"]
    assert {"list_databases", "execute_query", "create_database", "drop_database"} <= set(
        details["available_operations"]
    )
    assert details["health_checked_at"] > service["last_health_check"]

    redis_svc = await redis_service(http, secrets)
    redis_details = (await http.get(f"{BASE}/{redis_svc['id']}/details")).json()
    assert redis_details["available_operations"] == [
        "get_info",
        "get_key",
        "set_key",
        "delete_key",
        "list_keys",
    ]
    assert redis_details["health_status"] == "healthy"


async def test_the_health_endpoint_stores_the_outcome(http, secrets):
    service = await postgres_service(http, secrets)
    response = await http.post(f"{BASE}/{service['id']}/health")
    assert response.status_code == 200, response.text
    result = response.json()
    assert set(result) == {"service_name", "status", "message", "details", "checked_at"}
    assert result["service_name"] == service["name"] and result["status"] == "healthy"
    stored = (await http.get(f"{BASE}/{service['id']}")).json()
    assert stored["health_status"] == "healthy"
    assert stored["last_health_check"] > service["last_health_check"]
    assert stored["updated_at"] == service["updated_at"]
    assert (await http.post(f"{BASE}/{uuid.uuid4()}/health")).status_code == 404


async def test_a_service_whose_secret_disappeared_is_unhealthy_and_refuses_operations(
    http, secrets
):
    service = await postgres_service(http, secrets)
    await secrets.delete(service["secret_refs"]["password"])
    health = (await http.post(f"{BASE}/{service['id']}/health")).json()
    assert health["status"] == "unhealthy"
    assert health["details"]["missing_secrets"] == [service["secret_refs"]["password"]]
    response = await operation(http, service["id"], "list_databases")
    assert response.status_code == 409
    assert response.json()["error"]["details"]["missing"] == [service["secret_refs"]["password"]]


# --- operations -------------------------------------------------------------------------------------


async def test_postgres_operations_and_their_scopes(http, secrets, api_server):
    service = await postgres_service(http, secrets)
    sid = service["id"]

    listed = await operation(http, sid, "list_databases")
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["service"] == service["name"] and body["operation"] == "list_databases"
    assert "test" in body["result"]["databases"]
    # No body at all means no params. The server is shared: other test processes make and drop
    # scratch databases between the two calls, so the lists compare by what stays.
    bare = await http.post(f"{BASE}/{sid}/operations/list_databases")
    assert bare.status_code == 200, bare.text
    assert bare.json()["result"].keys() == body["result"].keys()
    assert {"postgres", "test"} <= set(bare.json()["result"]["databases"])

    query = await operation(http, sid, "execute_query", {"query": "select 1 as one"})
    assert query.status_code == 200, query.text
    assert query.json()["result"]["columns"] == ["one"]
    assert query.json()["result"]["rows"] == [[1]]

    writer = await key_with(http, api_server, "write")
    reader = await key_with(http, api_server, "read")
    async with writer, reader:
        refused = await operation(writer, sid, "execute_query", {"query": "select 1"})
        assert refused.status_code == 403
        assert refused.json()["error"]["details"]["scope"] == "admin"
        assert (await operation(writer, sid, "list_databases")).status_code == 200
        assert (await operation(reader, sid, "list_databases")).status_code == 403
        assert (await reader.get(f"{BASE}/{sid}")).status_code == 200
        assert (await reader.post(f"{BASE}/{sid}/health")).status_code == 403
        assert (await reader.delete(f"{BASE}/{sid}")).status_code == 403

    bad_sql = await operation(http, sid, "execute_query", {"query": "select * from nope_table"})
    assert bad_sql.status_code == 502
    assert bad_sql.json()["error"]["code"] == "upstream_error"


async def test_create_and_drop_database_refuse_injection(http, secrets):
    service = await postgres_service(http, secrets)
    sid = service["id"]
    attack = 'es_evil"; DROP DATABASE test; --'
    refused = await operation(http, sid, "create_database", {"name": attack})
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["details"]["field"] == "name"
    assert not await pg_database_exists(attack)
    assert not await pg_database_exists("es_evil")
    assert await pg_database_exists("test")
    refused = await operation(http, sid, "drop_database", {"name": "test; DROP ROLE postgres"})
    assert refused.status_code == 400
    assert await pg_database_exists("test")

    name = f"es_t_{uuid.uuid4().hex[:8]}"
    try:
        created = await operation(http, sid, "create_database", {"name": name})
        assert created.status_code == 200, created.text
        assert created.json()["result"] == {"database": name, "created": True}
        assert await pg_database_exists(name)
        dropped = await operation(http, sid, "drop_database", {"name": name})
        assert dropped.status_code == 200, dropped.text
        assert dropped.json()["result"] == {"database": name, "dropped": True}
        assert not await pg_database_exists(name)
    finally:
        pg = await asyncpg.connect(POSTGRES_URL)
        try:
            await pg.execute(f'DROP DATABASE IF EXISTS "{name}"')
        finally:
            await pg.close()


async def test_redis_set_and_get_key(http, secrets):
    service = await redis_service(http, secrets)
    key = f"es-test:{uuid.uuid4().hex[:10]}"
    try:
        stored = await operation(
            http, service["id"], "set_key", {"key": key, "value": "hello", "ttl_seconds": 60}
        )
        assert stored.status_code == 200, stored.text
        assert stored.json()["result"]["set"] is True
        read = await operation(http, service["id"], "get_key", {"key": key})
        assert read.status_code == 200
        result = read.json()["result"]
        assert result["exists"] is True and result["value"] == "hello"
        assert 0 < result["ttl_seconds"] <= 60
    finally:
        client = aioredis.Redis.from_url(REDIS_URL)
        try:
            await client.delete(key)
        finally:
            await client.aclose()


async def test_unknown_operations_and_bad_params_answer_400(http, secrets):
    service = await postgres_service(http, secrets)
    unknown = await operation(http, service["id"], "launch_rockets")
    assert unknown.status_code == 400
    error = unknown.json()["error"]
    assert "list_databases" in error["details"]["valid_operations"]
    assert "list_databases" in error["message"]

    redis_op = await operation(http, service["id"], "get_key", {"key": "x"})
    assert redis_op.status_code == 400

    bad = await operation(http, service["id"], "list_databases", {"bogus": 1})
    assert bad.status_code == 400 and bad.json()["error"]["details"]["field"] == "bogus"
    missing = await operation(http, service["id"], "execute_query", {})
    assert missing.status_code == 400 and missing.json()["error"]["details"]["field"] == "query"

    for body in ({"params": "nope"}, {"params": {}, "extra": 1}, [1, 2]):
        response = await http.post(f"{BASE}/{service['id']}/operations/list_databases", json=body)
        assert response.status_code == 400, (body, response.text)

    as_job = await operation(
        http, service["id"], "create_service_database", {"db_name": "x", "password": "y" * 16}
    )
    assert as_job.status_code == 400
    assert "create_service_database" in as_job.json()["error"]["details"]["use"]
    assert (await operation(http, uuid.uuid4(), "list_databases")).status_code == 404


async def test_an_unreachable_service_is_unhealthy_and_its_operations_answer_502(http, secrets):
    port = free_port()
    password = f"Closed-{uuid.uuid4().hex}-Pw"
    secrets.sensitive.append(password)
    dsn = await secrets.create(
        f"postgresql://postgres:{password}@127.0.0.1:{port}/postgres", sensitive=True
    )
    service = await create(
        http,
        name=unique("closed"),
        type="postgres",
        url=f"postgresql://postgres@127.0.0.1:{port}/postgres",
        secret_refs={"connection_string": dsn},
    )
    assert service["health_status"] == "unhealthy"
    assert service["health_message"]
    assert service["last_health_check"]

    response = await operation(http, service["id"], "list_databases")
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "upstream_error"
    assert str(port) in error["message"]
    assert password not in response.text

    details = (await http.get(f"{BASE}/{service['id']}/details")).json()
    assert details["health_status"] == "unhealthy"
    assert password not in details["health_message"]


async def test_an_inactive_service_refuses_operations_with_409(http, secrets):
    service = await postgres_service(http, secrets, active=False)
    response = await operation(http, service["id"], "list_databases")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    await http.put(f"{BASE}/{service['id']}", json={"active": True})
    assert (await operation(http, service["id"], "list_databases")).status_code == 200


# --- delete -----------------------------------------------------------------------------------------


async def test_delete_answers_204_then_404(http, secrets):
    service = await postgres_service(http, secrets)
    response = await http.delete(f"{BASE}/{service['id']}")
    assert response.status_code == 204
    assert (await http.get(f"{BASE}/{service['id']}")).status_code == 404
    again = await http.delete(f"{BASE}/{service['id']}")
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "not_found"
    # Only the record went: the database server is untouched.
    assert await pg_database_exists("test")


async def test_request_bodies_have_openapi_examples(api_server):
    async with httpx.AsyncClient(
        verify=client_context(), base_url=api_server.url, timeout=60
    ) as anonymous:
        spec = (await anonymous.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    for name in ("ExternalServiceCreate", "ExternalServiceUpdate", "OperationRequest"):
        assert schemas[name].get("examples"), name
