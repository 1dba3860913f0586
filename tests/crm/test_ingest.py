"""The ingest webhook: one transaction per delivery, field auto-create, idempotent retries, bad input
refused with nothing written, concurrency, the rate limit and a database outage."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import pytest
from sqlalchemy import event

from tests.crm.conftest import open_app

PAYLOAD = {
    "nombre": "Juan Perez",
    "email": "juan@example.com",
    "telefono": "+5491155551234",
    "empresa": "ACME Corp",
}


async def test_ingest_stores_record_lead_and_creates_fields(crm):
    account_id, key = await crm.account()
    response = await crm.http.post(
        f"/api/v1/ingest/{key}",
        json={**PAYLOAD, "edad": 31, "vip": True, "alta": "2026-02-12T10:00:00Z"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True and body["auto_create_enabled"] is True
    assert body["unknown_fields"] == []
    assert body["fields_created"] == sorted([*PAYLOAD, "edad", "vip", "alta"])
    fields = (await crm.http.get(f"/api/v1/admin/accounts/{account_id}/fields")).json()
    types = {f["nombre_campo"]: f["tipo_dato"] for f in fields["items"]}
    assert types == {
        "nombre": "string",
        "email": "email",
        "telefono": "phone",
        "empresa": "string",
        "edad": "number",
        "vip": "boolean",
        "alta": "datetime",
    }
    record = (await crm.http.get(f"/api/v1/admin/records/{body['record_id']}")).json()
    assert record["datos"]["email"] == "juan@example.com"
    assert record["metadata_"] == {"source_ip": "127.0.0.1", "unknown_fields": None}
    lead = (await crm.http.get(f"/api/v1/admin/leads/{body['lead_id']}")).json()
    assert lead["record_id"] == body["record_id"] and lead["cuenta_id"] == account_id
    assert lead["datos"]["nombre"] == "Juan Perez"


async def test_with_auto_create_off_unknown_fields_are_reported_not_created(crm):
    account_id, key = await crm.account(auto_crear_campos=False)
    created = await crm.http.post(
        f"/api/v1/admin/accounts/{account_id}/fields",
        json={"nombre_campo": "email", "tipo_dato": "email"},
    )
    assert created.status_code == 201
    body = (await crm.http.post(f"/api/v1/ingest/{key}", json=PAYLOAD)).json()
    assert body["auto_create_enabled"] is False and body["fields_created"] == []
    assert sorted(body["unknown_fields"]) == ["empresa", "nombre", "telefono"]
    record = (await crm.http.get(f"/api/v1/admin/records/{body['record_id']}")).json()
    assert record["datos"] == PAYLOAD
    assert sorted(record["metadata_"]["unknown_fields"]) == ["empresa", "nombre", "telefono"]
    lead = (await crm.http.get(f"/api/v1/admin/leads/{body['lead_id']}")).json()
    assert lead["datos"] == {"email": "juan@example.com"}
    assert (await crm.counts())["crm_campos"] == 1


async def test_unknown_inactive_and_malformed_keys_answer_the_same_404(crm):
    account_id, key = await crm.account()
    await crm.http.delete(f"/api/v1/admin/accounts/{account_id}")
    for path_key in (key, "cc_" + "x" * 32, "nope"):
        response = await crm.http.post(f"/api/v1/ingest/{path_key}", json=PAYLOAD)
        assert response.status_code == 404
        assert response.json()["error"]["message"] == "Account not found or inactive"
    assert (await crm.counts())["crm_records"] == 0


async def test_ingest_needs_no_platform_key(crm):
    _, key = await crm.account()
    response = await crm.http.post(
        f"/api/v1/ingest/{key}", json=PAYLOAD, headers={"Authorization": ""}
    )
    assert response.status_code == 200


async def test_a_retried_delivery_returns_the_first_answer_and_stores_one_record(crm):
    _, key = await crm.account()
    headers = {"Idempotency-Key": "delivery-1"}
    first, *retries = await asyncio.gather(
        *[crm.http.post(f"/api/v1/ingest/{key}", json=PAYLOAD, headers=headers) for _ in range(5)]
    )
    assert first.status_code == 200
    assert all(r.status_code == 200 and r.json() == first.json() for r in retries)
    again = await crm.http.post(f"/api/v1/ingest/{key}", json=PAYLOAD, headers=headers)
    assert again.json() == first.json()
    counts = await crm.counts()
    assert counts["crm_records"] == 1 and counts["crm_leads"] == 1
    other = await crm.http.post(
        f"/api/v1/ingest/{key}", json={**PAYLOAD, "nombre": "Otro"}, headers=headers
    )
    assert other.status_code == 409
    assert (await crm.counts())["crm_records"] == 1


async def test_the_crm_delivery_id_header_is_an_idempotency_key(tmp_path):
    crm, lifespan = await open_app(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'p.db'}",
        crm_delivery_id_header="X-Delivery-Id",
    )
    try:
        _, key = await crm.account()
        headers = {"X-Delivery-Id": "evt_42"}
        first = await crm.http.post(f"/api/v1/ingest/{key}", json=PAYLOAD, headers=headers)
        second = await crm.http.post(f"/api/v1/ingest/{key}", json=PAYLOAD, headers=headers)
        assert first.json() == second.json()
        assert (await crm.counts())["crm_records"] == 1
    finally:
        await crm.http.aclose()
        await lifespan.__aexit__(None, None, None)


def _deep(levels: int):
    value: object = "x"
    for _ in range(levels):  # `levels` nested objects
        value = {"a": value}
    return value


BAD_BODIES = {
    "array": (json.dumps([PAYLOAD]), 400),
    "string": (json.dumps("hola"), 400),
    "malformed": ('{"nombre": ', 400),
    "duplicate_key": ('{"a": 1, "a": 2}', 400),
    "too_deep": (json.dumps(_deep(33)), 400),
    "too_many_fields": (json.dumps({f"f{i}": i for i in range(501)}), 400),
    "empty_field_name": (json.dumps({"": 1}), 400),
    "long_field_name": (json.dumps({"x" * 101: 1}), 400),
    "lone_surrogate": ('{"nombre": "\\ud800"}', 400),
    "over_1_mib": (json.dumps({"blob": "x" * (1024 * 1024)}), 413),
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
async def test_bad_input_is_refused_and_nothing_is_written(crm, case):
    _, key = await crm.account()
    before = await crm.counts()
    raw, expected = BAD_BODIES[case]
    response = await crm.http.post(
        f"/api/v1/ingest/{key}", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == expected, response.text
    assert set(response.json()["error"]) == {"code", "message", "details"}
    assert await crm.counts() == before


async def test_a_body_at_the_limits_is_accepted(crm):
    _, key = await crm.account()
    body = {f"f{i}": i for i in range(498)} | {"x" * 100: 1, "deep": _deep(31)}
    assert (await crm.http.post(f"/api/v1/ingest/{key}", json=body)).status_code == 200


async def test_a_body_that_is_not_json_answers_415(crm):
    _, key = await crm.account()
    response = await crm.http.post(f"/api/v1/ingest/{key}", content=b"nombre=Juan")
    assert response.status_code == 415
    assert (await crm.counts())["crm_records"] == 0


async def test_missing_required_fields_are_named_and_nothing_is_written(crm):
    account_id, key = await crm.account()
    for name in ("email", "telefono"):
        await crm.http.post(
            f"/api/v1/admin/accounts/{account_id}/fields",
            json={"nombre_campo": name, "tipo_dato": "string", "es_requerido": True},
        )
    before = await crm.counts()
    response = await crm.http.post(f"/api/v1/ingest/{key}", json={"nombre": "Juan", "email": None})
    assert response.status_code == 400
    assert response.json()["error"]["details"]["missing"] == ["email", "telefono"]
    assert await crm.counts() == before


async def test_concurrent_ingests_with_overlapping_new_fields_lose_nothing(crm):
    account_id, key = await crm.account()
    payloads = [{f"campo_{(i + j) % 12}": i for j in range(4)} | {"n": i} for i in range(50)]
    responses = await asyncio.gather(
        *[crm.http.post(f"/api/v1/ingest/{key}", json=p) for p in payloads]
    )
    assert [r.status_code for r in responses] == [200] * 50, [r.text for r in responses][:3]
    counts = await crm.counts()
    assert counts["crm_records"] == 50 and counts["crm_leads"] == 50
    assert counts["crm_campos"] == 13  # campo_0..campo_11 and n, each once
    created = [f for r in responses for f in r.json()["fields_created"]]
    assert sorted(created) == sorted({*created}) and len(created) == 13
    listed = await crm.http.get(f"/api/v1/admin/accounts/{account_id}/records?page_size=100")
    assert listed.json()["total"] == 50


async def test_the_rate_limit_answers_429_with_retry_after(tmp_path):
    crm, lifespan = await open_app(
        tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'p.db'}", crm_ingest_rate_limit="3/minute"
    )
    try:
        _, key = await crm.account()
        _, other_key = await crm.account()
        codes = [
            (await crm.http.post(f"/api/v1/ingest/{key}", json=PAYLOAD)).status_code
            for _ in range(4)
        ]
        assert codes == [200, 200, 200, 429]
        limited = await crm.http.post(f"/api/v1/ingest/{key}", json=PAYLOAD)
        assert limited.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        # Per account: another account's deliveries still go through.
        assert (await crm.http.post(f"/api/v1/ingest/{other_key}", json=PAYLOAD)).status_code == 200
        assert (await crm.counts())["crm_records"] == 4
    finally:
        await crm.http.aclose()
        await lifespan.__aexit__(None, None, None)


async def test_the_rate_limit_can_count_in_redis(tmp_path):
    from tests.helpers.platform import REDIS_URL

    crm, lifespan = await open_app(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'p.db'}",
        crm_ingest_rate_limit="2/minute",
        crm_rate_limit_storage_url=REDIS_URL,
    )
    try:
        _, key = await crm.account()
        codes = [
            (await crm.http.post(f"/api/v1/ingest/{key}", json=PAYLOAD)).status_code
            for _ in range(3)
        ]
        assert codes == [200, 200, 429]
    finally:
        await crm.http.aclose()
        await lifespan.__aexit__(None, None, None)


async def test_the_database_dropping_mid_ingest_answers_503_and_writes_nothing(crm):
    account_id, key = await crm.account()
    engine = crm.db.write_engine

    def fail_on_lead_insert(conn, cursor, statement, *_args):
        # On PostgreSQL the record and its lead are one statement; on SQLite the lead's INSERT
        # comes after the record's, in the same transaction.
        if "INSERT INTO CRM_LEADS" in statement.upper():
            raise ConnectionResetError("connection to the database lost")

    event.listen(engine, "before_cursor_execute", fail_on_lead_insert)
    try:
        response = await crm.http.post(f"/api/v1/ingest/{key}", json=PAYLOAD)
    finally:
        event.remove(engine, "before_cursor_execute", fail_on_lead_insert)
    assert response.status_code == 503, response.text
    assert response.json()["error"]["details"] == {"upstream": "database"}
    counts = await crm.counts()
    assert counts["crm_records"] == 0 and counts["crm_campos"] == 0


async def test_an_unreachable_database_answers_503(crm):
    _, key = await crm.account()
    real = crm.app.state.platform.db
    from store.db import Database

    dead = Database(
        "postgresql+asyncpg://postgres@127.0.0.1:1/none"
        if real.engine.dialect.name == "postgresql"
        else "sqlite+aiosqlite:////nonexistent-dir/x/y.db"
    )
    crm.app.state.platform.db = dead
    try:
        response = await crm.http.post(f"/api/v1/ingest/{key}", json=PAYLOAD)
        listing = await crm.http.get("/api/v1/admin/accounts")
    finally:
        crm.app.state.platform.db = real
        await dead.dispose()
    assert response.status_code == 503 and listing.status_code in (401, 503)
    assert (await crm.counts())["crm_records"] == 0


async def test_an_ingest_after_the_server_dropped_the_pooled_connections_is_stored(crm):
    """No pre-ping: a pooled connection the server closed is found dead by the ingest's first
    statement, and the ingest runs again on a fresh one (nothing was written on the dead one)."""
    if crm.db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to drop connections")
    _, key = await crm.account()
    assert (await crm.http.post(f"/api/v1/ingest/{key}", json=PAYLOAD)).status_code == 200
    url = crm.db.engine.url
    admin = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, database=url.database
    )
    try:
        dropped = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await admin.close()
    assert dropped >= 1
    response = await crm.http.post(f"/api/v1/ingest/{key}", json=PAYLOAD)
    assert response.status_code == 200, response.text
    assert (await crm.counts())["crm_records"] == 2
