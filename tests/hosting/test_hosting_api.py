"""Seed 001's general and user endpoints at the API's root, behind the `hosting` scope."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import event

from tests.hosting.conftest import key_with


def _userid() -> str:
    return f"u-{uuid.uuid4().hex[:10]}"


async def test_welcome_and_heartbeat_are_open_and_protected_needs_a_key(hosting):
    bare = {"X-API-Key": ""}
    assert (await hosting.get("/", headers=bare)).json()["docs"] == "/docs"
    beat = await hosting.get("/heartbeat", headers=bare)
    assert beat.status_code == 200 and beat.json()["status"] == "ok"
    refused = await hosting.get("/protected", headers=bare)
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "unauthorized"
    read_only = await key_with(hosting, "read")
    allowed = await hosting.get("/protected", headers={"X-API-Key": read_only})
    assert allowed.status_code == 200 and allowed.json()["scopes"] == ["read"]
    # The platform's own root routes are still theirs.
    assert (await hosting.get("/health")).status_code in (200, 503)


async def test_hosting_routes_need_the_hosting_scope_and_admin_passes(hosting):
    other = await key_with(hosting, "read", "write", "crm", "runners")
    scoped = await key_with(hosting, "hosting")
    for path in ("/service-types", "/users/nobody"):
        denied = await hosting.get(path, headers={"X-API-Key": other})
        assert denied.status_code == 403, path
        assert denied.json()["error"]["details"] == {"scope": "hosting"}
        missing = await hosting.get(path, headers={"X-API-Key": "csk_not_a_key"})
        assert missing.status_code == 401, path
    types = await hosting.get("/service-types", headers={"Authorization": f"Bearer {scoped}"})
    assert types.status_code == 200
    assert {"Static", "PHP", "Node.js"} <= set(types.json())
    assert (await hosting.get("/service-types")).status_code == 200  # admin


async def test_create_user_then_read_it_with_empty_services_and_vms(hosting):
    userid = _userid()
    created = await hosting.post("/users", data={"userid": userid, "username": "Ana Pérez"})
    assert created.status_code == 201, created.text
    assert created.json()["userid"] == userid
    assert created.json()["created_at"].endswith("Z")
    again = await hosting.post("/users", files={"userid": (None, userid), "username": (None, "x")})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "user_exists"
    read = await hosting.get(f"/users/{userid}")
    assert read.status_code == 200
    body = read.json()
    assert body["username"] == "Ana Pérez"
    assert body["services"] == [] and body["vms"] == [] and body["access_urls"] == []
    assert (await hosting.get(f"/users/{_userid()}")).status_code == 404


async def test_concurrent_creates_of_one_user_give_one_201_and_409s(hosting):
    userid = _userid()
    answers = await asyncio.gather(
        *(hosting.post("/users", data={"userid": userid, "username": "n"}) for _ in range(5))
    )
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409, 409]


async def test_user_form_is_parsed_strictly_into_the_400_envelope(hosting):
    cases = [
        {"userid": _userid()},  # username missing
        {"userid": "bad id!", "username": "x"},
        {"userid": _userid(), "username": ""},
        {"userid": _userid(), "username": "x", "extra": "y"},
        {"userid": "x" * 65, "username": "x"},
    ]
    for form in cases:
        answer = await hosting.post("/users", data=form)
        assert answer.status_code == 400, (form, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "validation_error" and error["details"]["fields"], form
    repeated = await hosting.post(
        "/users",
        content=f"userid={_userid()}&userid=b&username=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert repeated.status_code == 400
    as_json = await hosting.post("/users", json={"userid": _userid(), "username": "x"})
    assert as_json.status_code == 415
    assert as_json.json()["error"]["code"] == "unsupported_media_type"
    assert (await hosting.get("/users/bad%20id")).status_code == 400


async def test_a_key_s_last_use_is_written_in_batches_not_per_request(hosting, hosting_server):
    key = await key_with(hosting, "hosting")
    engine = hosting_server.server.config.app.state.platform.db.engine.sync_engine
    writes: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("UPDATE API_KEYS"):
            writes.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(20):
            answer = await hosting.get("/service-types", headers={"X-API-Key": key})
            assert answer.status_code == 200
        await asyncio.sleep(0.6)  # a few flushes (every 0.2 s here)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # One write per flush for the keys used since the last, never one per request.
    assert 1 <= len(writes) <= 4
    listed = (await hosting.get("/api/v1/api-keys")).json()
    mine = [k for k in listed if k["key_prefix"] == key[:8]]
    assert mine and mine[0]["last_used_at"]
