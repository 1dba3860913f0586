"""Webhooks end to end: a receiver on loopback (its port on the allow-list) that fails twice then
accepts gets the event once accepted, signed (HMAC-SHA256 over `t.body`), every attempt recorded;
a deploy failed by the local cloud's fault injection is delivered as `job.failed`; the secret
lives in Secret Manager, never in the table."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from contracts.assistant.webhooks import MAX_PAYLOAD, Event
from core.settings import Settings
from providers.google.secret_manager import SecretStore
from store.assistant.models import Webhook
from store.db import Database
from temporal import events
from tests.helpers.job_controls import held, refuse_access_policy, start_deploy
from tests.helpers.local_http import LocalHttpServer, Seen
from tests.helpers.platform import ApiServer, unique_name, wait_for_job
from tests.helpers.provisioning import deploy
from tests.helpers.webhooks import verified
from worker import build_worker

SECRET = "whsec-test-" + uuid.uuid4().hex
# Each delivery's first attempts the receiver refuses.
FAILURES = 2


@pytest.fixture(scope="module")
def receiver():
    attempts: Counter[str] = Counter()

    def answer(seen: Seen):
        delivery = seen.headers.get("x-conneskills-delivery", "")
        attempts[delivery] += 1
        if attempts[delivery] <= FAILURES:
            return 500, {}, b"not now"
        return 204, {}, b""

    with LocalHttpServer(answer) as server:
        yield server


@pytest.fixture(scope="module")
def assistant_settings(settings: Settings, receiver) -> Settings:
    return settings.model_copy(
        update={
            "task_queue": f"assistant-{uuid.uuid4().hex[:8]}",
            "outbound_allowed_addresses": [f"127.0.0.1:{receiver.port}"],
            "webhook_retry_initial_seconds": 0.2,
            "webhook_retry_max_seconds": 1.0,
            "webhook_retry_for_seconds": 60.0,
        }
    )


@pytest.fixture(scope="module")
async def assistant_worker(
    client, assistant_settings: Settings, assistant_server: ApiServer, db: Database
) -> AsyncIterator[None]:
    """Deploys too: a failed deploy's `job.failed` is published by the provisioning worker."""
    worker_settings = assistant_settings.model_copy(
        update={"assistant_platform_api_url": assistant_server.url}
    )
    async with build_worker(client, worker_settings, db, ["provisioning", "assistant"]):
        yield


def requests_for(receiver: LocalHttpServer, predicate) -> list[Seen]:
    return [r for r in receiver.requests if predicate(json.loads(r.body))]


async def until(condition, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while not (found := await condition()):
        assert time.monotonic() < deadline, "not within the time allowed"
        await asyncio.sleep(0.2)
    return found


async def test_a_delivery_failing_twice_is_delivered_once_signed_with_its_attempts_recorded(
    console, assistant_worker, receiver, assistant_settings, db
):
    created = await console.post(
        "/api/webhooks",
        json={"url": f"{receiver.url}/hook", "events": ["conversation.created"], "secret": SECRET},
    )
    assert created.status_code == 201, created.text
    hook = created.json()
    assert SECRET not in created.text and hook["events"] == ["conversation.created"]
    listed = (await console.get("/api/webhooks")).json()["webhooks"]
    assert hook["id"] in {w["id"] for w in listed} and SECRET not in json.dumps(listed)

    conversation = (await console.post("/api/conversations")).json()["id"]
    event_id = f"conversation.created:{conversation}"

    async def delivered():
        answer = await console.get(f"/api/webhooks/{hook['id']}/deliveries")
        mine = [d for d in answer.json()["deliveries"] if d["event_id"] == event_id]
        return mine if any(d["outcome"] == "delivered" for d in mine) else None

    attempts = await until(delivered)
    assert [(a["attempt"], a["outcome"]) for a in attempts] == [
        (3, "delivered"),
        (2, "failed"),
        (1, "failed"),
    ]
    assert attempts[1]["status_code"] == 500 and attempts[0]["status_code"] == 204
    seen = requests_for(receiver, lambda e: e["data"].get("conversation_id") == conversation)
    assert len(seen) == 3  # two refused, one accepted: delivered once
    assert {s.headers["x-conneskills-delivery"] for s in seen} == {attempts[0]["delivery_id"]}
    event = verified(seen[-1], SECRET)
    assert event["type"] == "conversation.created" and event["id"] == event_id
    assert seen[-1].headers["x-conneskills-event"] == "conversation.created"

    # The secret is Secret Manager's; the table keeps its name only.
    async with db.transaction() as session:
        row = (await session.scalars(select(Webhook).where(Webhook.id == hook["id"]))).one()
        assert SECRET not in json.dumps(
            {c.key: str(getattr(row, c.key)) for c in Webhook.__table__.columns}
        )
        secret_name = row.secret_name
    store = SecretStore(assistant_settings)
    assert await asyncio.to_thread(store.access, secret_name) == SECRET

    assert (await console.delete(f"/api/webhooks/{hook['id']}")).status_code == 204
    assert not await asyncio.to_thread(store.exists, secret_name)
    assert (await console.get(f"/api/webhooks/{hook['id']}/deliveries")).status_code == 404


async def test_a_failed_deploy_is_delivered_as_job_failed(
    by_key, assistant_worker, receiver, localcloud
):
    hook = (
        await by_key.post(
            "/api/webhooks",
            json={"url": f"{receiver.url}/jobs", "events": ["job.failed"], "secret": SECRET},
        )
    ).json()
    name = unique_name("hookfail")
    conflict = localcloud.inject_fault(
        fail_next=1, code=409, method="POST", path_contains=f"serviceId={name}"
    )
    try:
        job = await wait_for_job(by_key, (await deploy(by_key, name))["job_id"], seconds=90)
    finally:
        localcloud.clear_faults()
    assert job["status"] == "failed" and localcloud.fired(conflict) == 1

    async def accepted():
        seen = requests_for(receiver, lambda e: e["data"].get("job_id") == job["job_id"])
        return seen if len(seen) > FAILURES else None

    seen = await until(accepted)
    event = verified(seen[-1], SECRET)
    assert event["type"] == "job.failed" and event["data"]["operation"] == job["operation"]
    assert f"creating service {name}" in event["data"]["error"]
    logs = (await by_key.get(f"/api/v1/jobs/{job['job_id']}/logs")).json()["logs"]
    assert not [line for line in logs if "not published" in line]
    assert (await by_key.delete(f"/api/webhooks/{hook['id']}")).status_code == 204


async def test_a_held_deploy_is_delivered_as_needs_attention_then_failed_on_rollback(
    by_key, assistant_worker, receiver, localcloud
):
    hook = (
        await by_key.post(
            "/api/webhooks",
            json={
                "url": f"{receiver.url}/held",
                "events": ["job.needs_attention", "job.failed", "job.completed"],
                "secret": SECRET,
            },
        )
    ).json()
    name = unique_name("hookhold")
    refuse_access_policy(localcloud, name)
    try:
        job_id = await start_deploy(by_key, name, hold=True)
        assert (await held(by_key, job_id))["status"] == "needs_attention"

        async def announced(kind: str):
            async def check():
                seen = requests_for(
                    receiver, lambda e: e["data"].get("job_id") == job_id and e["type"] == kind
                )
                return seen if len(seen) > FAILURES else None

            return check

        seen = await until(await announced("job.needs_attention"))
        assert verified(seen[-1], SECRET)["data"]["phase"] == "needs_attention"
        rolled = await by_key.post(f"/api/v1/jobs/{job_id}/rollback", json={"comment": "no"})
        assert rolled.status_code == 202, rolled.text
        assert (await wait_for_job(by_key, job_id))["status"] == "failed"
        await until(await announced("job.failed"))
    finally:
        localcloud.clear_faults()
    kinds = {
        json.loads(r.body)["type"]
        for r in requests_for(receiver, lambda e: e["data"].get("job_id") == job_id)
    }
    assert kinds == {"job.needs_attention", "job.failed"}
    assert (await by_key.delete(f"/api/webhooks/{hook['id']}")).status_code == 204


async def test_a_tool_a_turn_runs_is_delivered_as_tool_executed_to_its_owner(
    console, assistant_worker, receiver
):
    hook = (
        await console.post(
            "/api/webhooks",
            json={"url": f"{receiver.url}/tools", "events": ["tool.executed"], "secret": SECRET},
        )
    ).json()
    conversation = (await console.post("/api/conversations")).json()["id"]
    answer = await console.post(
        "/api/chat", json={"conversation_id": conversation, "message": "Lista los jobs"}
    )
    assert answer.status_code in (200, 202), answer.text  # 202: a loaded machine's slow turn

    async def accepted():
        seen = requests_for(receiver, lambda e: e["data"].get("conversation_id") == conversation)
        return seen if len(seen) > FAILURES else None

    event = verified((await until(accepted, seconds=120))[-1], SECRET)
    assert event["type"] == "tool.executed"
    assert event["data"]["tool"] == "list_jobs" and event["data"]["ok"] is True
    assert event["data"]["job_id"] == answer.json()["job_id"]
    assert (await console.delete(f"/api/webhooks/{hook['id']}")).status_code == 204


async def test_webhooks_refuse_urls_the_guard_refuses_and_unknown_events(console):
    for url in ("http://127.0.0.1:9/hook", "http://10.1.2.3/hook", "ftp://example.com/hook"):
        answer = await console.post(
            "/api/webhooks", json={"url": url, "events": ["tool.executed"], "secret": SECRET}
        )
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["code"] == "INVALID_REQUEST"
        assert SECRET not in answer.text
    answer = await console.post(
        "/api/webhooks",
        json={"url": "https://example.com/hook", "events": ["nope.never"], "secret": SECRET},
    )
    assert answer.status_code == 400 and SECRET not in answer.text
    # A secret too short or too long is refused in words about its length, never echoed.
    for secret in ("short", "s" * 257):
        answer = await console.post(
            "/api/webhooks",
            json={"url": "https://example.com/hook", "events": ["alert.warning"], "secret": secret},
        )
        assert answer.status_code == 400, answer.text
        assert "8 to 256 characters" in answer.text and secret not in answer.text


async def test_an_event_larger_than_a_delivery_allows_is_delivered_cut_and_marked(
    console, assistant_worker, receiver, assistant_settings, db, client
):
    created = await console.post(
        "/api/webhooks",
        json={"url": f"{receiver.url}/big", "events": ["alert.warning"], "secret": SECRET},
    )
    assert created.status_code == 201, created.text
    key = unique_name("big")
    event = Event(
        id=f"alert:test:{key}",
        type="alert.warning",
        created_at=events.now_text(),
        data={"alert_key": key, "count": 3, "detail": "x" * 5_000, "entries": ["y" * 100] * 200},
    )
    assert len(event.model_dump_json()) > MAX_PAYLOAD
    assert await events.publish(client, db, assistant_settings, event)

    async def delivered():
        seen = requests_for(receiver, lambda e: e["data"].get("alert_key") == key)
        return seen if len(seen) > FAILURES else None

    seen = (await until(delivered))[-1]
    assert len(seen.body) <= MAX_PAYLOAD
    body = verified(seen, SECRET)
    assert body["id"] == event.id and body["type"] == "alert.warning"
    assert body["data"] == {"alert_key": key, "count": 3, "truncated": True}
    assert (await console.delete(f"/api/webhooks/{created.json()['id']}")).status_code == 204
