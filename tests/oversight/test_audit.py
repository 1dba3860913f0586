"""The audit trail through the API: every mutating call made with a platform API key is a row of
`audit_events` (actor, request id, resource, comment, outcome, job), readable by admins only."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from temporalio.client import Client

from api.logic.oversight.schedule import schedule_id
from providers.tls import client_context
from store.oversight import audit as audit_store
from store.oversight.models import AuditEvent
from tests.helpers.platform import unique_name, wait_for_job
from tests.helpers.provisioning import IMAGE, deploy
from tests.oversight.audit_helpers import audit_rows, row_for


def rid() -> str:
    return f"req-{uuid.uuid4().hex[:12]}"


async def new_key(api: httpx.AsyncClient, *scopes: str) -> tuple[str, str, str]:
    name = f"audit-test-{uuid.uuid4().hex[:8]}"
    response = await api.post("/api/v1/api-keys", json={"name": name, "scopes": list(scopes)})
    assert response.status_code == 201, response.text
    return response.json()["key"], name, response.json()["id"]


async def test_a_job_start_is_recorded_with_its_actor_subject_job_and_request_id(api):
    name = unique_name("audited")
    request_id = rid()
    response = await api.post(
        "/api/v1/services/deploy",
        json={"service_name": name, "image": IMAGE},
        headers={"X-Request-ID": request_id, "X-Audit-Reason": "release 42"},
    )
    assert response.status_code == 202, response.text
    assert response.headers["X-Request-ID"] == request_id
    job_id = response.json()["job_id"]
    row = await row_for(api, request_id)
    assert row["method"] == "POST" and row["path"] == "/api/v1/services/deploy"
    assert row["actor_name"] == "admin" and row["actor_key_id"]
    assert row["resource"] == f"service:{name}"
    assert row["job_id"] == job_id and row["status_code"] == 202
    assert row["comment"] == "release 42"
    await wait_for_job(api, job_id)


async def test_a_cancel_is_recorded_with_its_comment_and_the_job(api):
    job_id = (await deploy(api, unique_name("cancelaud")))["job_id"]
    request_id = rid()
    cancel = await api.post(
        f"/api/v1/jobs/{job_id}/cancel",
        json={"comment": "wrong image"},
        headers={"X-Request-ID": request_id, "X-Audit-Reason": "the header loses to the route"},
    )
    assert cancel.status_code in (202, 409), cancel.text
    # Again, without a comment in the body: the X-Audit-Reason header is the reason.
    again_id = rid()
    again = await api.post(
        f"/api/v1/jobs/{job_id}/cancel",
        headers={"X-Request-ID": again_id, "X-Audit-Reason": "asked twice"},
    )
    row = await row_for(api, request_id)
    assert row["resource"] == f"job:{job_id}" and row["job_id"] == job_id
    assert row["comment"] == "wrong image"
    assert row["status_code"] == cancel.status_code
    second = await row_for(api, again_id)
    assert second["comment"] == "asked twice" and second["status_code"] == again.status_code
    await wait_for_job(api, job_id)


async def test_api_key_create_and_revoke_are_recorded_and_never_hold_the_key(api):
    create_id = rid()
    name = f"audit-key-{uuid.uuid4().hex[:8]}"
    created = await api.post(
        "/api/v1/api-keys",
        json={"name": name, "scopes": ["read"]},
        headers={"X-Request-ID": create_id},
    )
    assert created.status_code == 201, created.text
    key, key_id = created.json()["key"], created.json()["id"]
    revoke_id = rid()
    revoked = await api.delete(f"/api/v1/api-keys/{key_id}", headers={"X-Request-ID": revoke_id})
    assert revoked.status_code == 204
    created_row = await row_for(api, create_id)
    revoked_row = await row_for(api, revoke_id)
    assert created_row["resource"] == f"api-keys/{key_id}" and created_row["status_code"] == 201
    assert revoked_row["resource"] == f"api-keys/{key_id}" and revoked_row["method"] == "DELETE"
    assert revoked_row["status_code"] == 204
    assert key not in str(created_row) + str(revoked_row)


async def test_a_secret_change_is_recorded_without_its_value(api, settings):
    value = f"val-{uuid.uuid4().hex}-LEAKCHECK"
    key = f"audit-{uuid.uuid4().hex[:8]}"
    request_id = rid()
    created = await api.post(
        "/api/v1/secrets",
        json={"scope": "GLOBAL", "key": key, "value": value},
        headers={"X-Request-ID": request_id},
    )
    assert created.status_code == 201, created.text
    secret = created.json()["name"]
    update_id = rid()
    updated = await api.put(
        f"/api/v1/secrets/{secret}",
        json={"value": value + "2"},
        headers={"X-Request-ID": update_id},
    )
    assert updated.status_code == 200, updated.text
    delete_id = rid()
    assert (
        await api.delete(f"/api/v1/secrets/{secret}", headers={"X-Request-ID": delete_id})
    ).status_code == 204
    rows = [await row_for(api, r) for r in (request_id, update_id, delete_id)]
    assert [r["method"] for r in rows] == ["POST", "PUT", "DELETE"]
    assert rows[1]["resource"] == rows[2]["resource"] == f"secrets/{secret}"
    assert value not in str(rows)


async def test_refused_mutating_calls_are_recorded_with_their_status(api, api_server):
    invalid_id = rid()
    invalid = await api.post(
        "/api/v1/services/deploy",
        json={"service_name": "Not_Valid!", "image": IMAGE},
        headers={"X-Request-ID": invalid_id},
    )
    assert invalid.status_code == 400
    malformed_id = rid()
    malformed = await api.post(
        "/api/v1/services/deploy",
        content=b"{not json",
        headers={"X-Request-ID": malformed_id, "Content-Type": "application/json"},
    )
    assert malformed.status_code == 400
    key, reader_name, _ = await new_key(api, "read")
    forbidden_id = rid()
    async with httpx.AsyncClient(
        verify=client_context(), base_url=api_server.url, headers={"X-API-Key": key}
    ) as reader:
        forbidden = await reader.post(
            "/api/v1/services/deploy",
            json={"service_name": unique_name("nope"), "image": IMAGE},
            headers={"X-Request-ID": forbidden_id},
        )
        assert forbidden.status_code == 403
    too_big_id = rid()
    too_big = await api.post(
        "/api/v1/services/deploy",
        content=b'{"service_name": "' + b"x" * (2 * 1024 * 1024) + b'"}',
        headers={"X-Request-ID": too_big_id, "Content-Type": "application/json"},
    )
    assert too_big.status_code == 413
    assert (await row_for(api, too_big_id))["status_code"] == 413
    assert (await row_for(api, invalid_id))["status_code"] == 400
    # Refused before authentication ran (the body is not JSON): the key is still the actor.
    assert (await row_for(api, malformed_id))["status_code"] == 400
    forbidden_row = await row_for(api, forbidden_id, actor=reader_name)
    assert forbidden_row["status_code"] == 403 and forbidden_row["job_id"] is None


async def test_calls_without_a_valid_key_and_crm_ingest_are_not_recorded(api, api_server):
    unknown_id, ingest_id, marker_id = rid(), rid(), rid()
    async with httpx.AsyncClient(verify=client_context(), base_url=api_server.url) as anonymous:
        refused = await anonymous.post(
            "/api/v1/services/deploy",
            json={"service_name": unique_name("anon"), "image": IMAGE},
            headers={"X-API-Key": "csk_not_a_key", "X-Request-ID": unknown_id},
        )
        assert refused.status_code == 401
    # The platform key on the CRM webhook: authenticated by account keys, never audited here.
    await api.post(
        "/api/v1/ingest/some-account", json={"a": 1}, headers={"X-Request-ID": ingest_id}
    )
    # A recorded call after both: once it is listed, the two before it would be too.
    await api.post(
        "/api/v1/api-keys", json={"name": "x" * 300}, headers={"X-Request-ID": marker_id}
    )
    await row_for(api, marker_id)
    ids = {row["request_id"] for row in await audit_rows(api, expect=0, limit=200)}
    assert unknown_id not in ids and ingest_id not in ids


async def test_the_audit_filters_pages_newest_first_and_needs_admin(api, api_server):
    _, actor, _ = await new_key(api, "read")
    key, _, _ = await new_key(api, "write")
    async with httpx.AsyncClient(
        verify=client_context(), base_url=api_server.url, headers={"X-API-Key": key}
    ) as writer:
        forbidden = await writer.get("/api/v1/audit")
        assert forbidden.status_code == 403
        assert forbidden.json()["error"]["code"] == "forbidden"
    started = datetime.now(UTC)
    ids = [rid() for _ in range(3)]
    for request_id in ids:
        await api.post(
            "/api/v1/api-keys",
            json={"name": actor, "scopes": ["nope"]},
            headers={"X-Request-ID": request_id},
        )
    rows = await audit_rows(api, expect=3, since=started.isoformat(), actor="admin", limit=200)
    ours = [row["request_id"] for row in rows if row["request_id"] in ids]
    assert ours == list(reversed(ids))  # newest first

    first = await api.get(
        "/api/v1/audit", params={"from": started.isoformat(), "actor": "admin", "limit": 1}
    )
    page = first.json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    second = await api.get(
        "/api/v1/audit",
        params={
            "from": started.isoformat(),
            "actor": "admin",
            "limit": 1,
            "cursor": page["next_cursor"],
        },
    )
    assert second.json()["items"][0]["occurred_at"] <= page["items"][0]["occurred_at"]
    assert second.json()["items"][0]["id"] != page["items"][0]["id"]

    before = await api.get("/api/v1/audit", params={"to": started.isoformat(), "limit": 200})
    assert not {row["request_id"] for row in before.json()["items"]} & set(ids)
    by_resource = await api.get("/api/v1/audit", params={"resource": "api-keys", "limit": 200})
    assert all(r["resource"].startswith("api-keys") for r in by_resource.json()["items"])
    bad = await api.get("/api/v1/audit", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400 and bad.json()["error"]["details"]["field"] == "cursor"


async def test_the_reaper_prunes_audit_rows_past_their_retention(api, db, client: Client, settings):
    old_id, recent_id = uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    row = dict(actor_name="admin", request_id="old", method="POST", path="/x", resource="x")
    async with db.transaction() as session:
        await audit_store.insert_many(
            session,
            [
                {**row, "id": old_id, "occurred_at": now - timedelta(days=91), "status_code": 200},
                {
                    **row,
                    "id": recent_id,
                    "occurred_at": now - timedelta(days=89),
                    "status_code": 200,
                },
            ],
        )
    handle = client.get_schedule_handle(schedule_id(settings))
    for _ in range(100):  # the API creates the schedule in the background as it starts
        try:
            await handle.describe()
            break
        except Exception:
            await asyncio.sleep(0.1)
    await handle.trigger()
    for _ in range(300):
        async with db.transaction() as session:
            old = await session.get(AuditEvent, old_id)
            recent = await session.get(AuditEvent, recent_id)
        if old is None:
            break
        await asyncio.sleep(0.1)
    assert old is None and recent is not None
