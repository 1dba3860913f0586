"""Alerts as webhook events, end to end (a platform of its own: API, worker, local cloud, and a
receiver on loopback, its port on the outbound allow-list): a service changed behind the
platform's back is delivered once as a signed `alert.warning` naming the service and its drifted
fields (secret references by name, never a value), and seeing the same drift again delivers
nothing more; a job whose compensation failed is delivered as `alert.critical` by the reaper.

The platform has a database of its own: the drift observers and reapers of the suite's other
platforms never see its resources, so the alert (and its one event) is this platform's to raise."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from api.logic.oversight.schedule import schedule_id as reaper_schedule_id
from api.logic.provisioning.drift_schedule import schedule_id as drift_schedule_id
from api.logic.runners.schedule import schedule_id as cleanup_schedule_id
from contracts.oversight.names import Workflows as OversightWorkflows
from contracts.oversight.reaper import ReaperInput
from contracts.task_queues import queue_for_workflow
from core.settings import Settings
from providers.tls import client_context
from store.db import Database
from store.migrate import upgrade
from store.oversight import alerts
from temporal import search_attributes as sa
from tests.helpers import drift
from tests.helpers.drift import OTHER_IMAGE, change_behind_the_platforms_back, condition, observe
from tests.helpers.local_http import LocalHttpServer, Seen
from tests.helpers.platform import ADMIN_KEY, ApiServer, unique_name, wait_for_job
from tests.helpers.provisioning import IMAGE, deploy
from tests.helpers.webhooks import verified
from worker import build_worker

SECRET = "whsec-alerts-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def receiver() -> Iterator[LocalHttpServer]:
    with LocalHttpServer(lambda _seen: (204, {}, b"")) as server:
        yield server


@pytest.fixture(scope="module")
def own_settings(
    settings: Settings, receiver: LocalHttpServer, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    data_dir = tmp_path_factory.mktemp("alert-events")
    own = settings.model_copy(
        update={
            "data_dir": data_dir,
            "database_url": f"sqlite+aiosqlite:///{data_dir / 'platform.db'}",
            "task_queue": f"alerts-{uuid.uuid4().hex[:8]}",
            "outbound_allowed_addresses": [f"127.0.0.1:{receiver.port}"],
            "webhook_retry_initial_seconds": 0.2,
            "webhook_retry_max_seconds": 1.0,
            "webhook_retry_for_seconds": 60.0,
        }
    )
    upgrade(own.resolved_database_url)
    return own


@pytest.fixture(scope="module")
async def platform(client: Client, own_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    db = Database(own_settings.resolved_database_url)
    try:
        with ApiServer(own_settings) as server:
            async with (
                build_worker(client, own_settings, db),
                httpx.AsyncClient(
                    verify=client_context(),
                    base_url=server.url,
                    headers={"X-API-Key": ADMIN_KEY},
                    timeout=60,
                ) as api,
            ):
                yield api
            # The API made the platform's schedules on its task queue: no worker serves it now.
            for made in (drift_schedule_id, reaper_schedule_id, cleanup_schedule_id):
                with contextlib.suppress(Exception):  # never created: nothing to delete
                    await client.get_schedule_handle(made(own_settings)).delete()
    finally:
        await db.dispose()


async def subscribe(api: httpx.AsyncClient, receiver: LocalHttpServer, path: str, events: list):
    created = await api.post(
        "/api/webhooks",
        json={"url": f"{receiver.url}{path}", "events": events, "secret": SECRET},
    )
    assert created.status_code == 201, created.text
    return created.json()


def delivered(receiver: LocalHttpServer, path: str, predicate) -> list[Seen]:
    return [
        seen
        for seen in list(receiver.requests)
        if seen.path == path and predicate(json.loads(seen.body))
    ]


async def until(found, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while not (answer := found()):
        assert time.monotonic() < deadline, "not delivered within the time allowed"
        await asyncio.sleep(0.2)
    return answer


async def announced(own_settings: Settings, kind: str, job_id: str) -> bool:
    """Marked announced once its event went out (else every later look would publish it again);
    the mark follows the delivery's start, so it may land just after the delivery itself."""
    db = Database(own_settings.resolved_database_url)
    try:
        for _ in range(50):
            async with db.transaction() as session:
                if not await alerts.unannounced(session, kind, [job_id]):
                    return True
            await asyncio.sleep(0.2)
        return False
    finally:
        await db.dispose()


async def secret(api: httpx.AsyncClient, value: str) -> str:
    created = await api.post(
        "/api/v1/secrets",
        json={"scope": "GLOBAL", "key": f"alert-tok-{uuid.uuid4().hex[:8]}", "value": value},
    )
    assert created.status_code == 201, created.text
    return created.json()["name"]


async def test_a_drift_is_delivered_once_as_a_signed_alert_warning_without_secret_values(
    platform: httpx.AsyncClient, receiver, client: Client, own_settings: Settings
):
    hook = await subscribe(platform, receiver, "/drift", ["alert.warning"])
    values = [f"value-a-{uuid.uuid4().hex}", f"value-b-{uuid.uuid4().hex}"]
    applied_secret, live_secret = [await secret(platform, value) for value in values]
    name = unique_name("drift-hook")
    job = await deploy(platform, name, env_vars={"A": "1"}, secrets={"TOKEN": applied_secret})
    assert (await wait_for_job(platform, job["job_id"], seconds=90))["status"] == "completed"
    path = f"/api/v1/services/{name}"
    await observe(client, own_settings)
    synced = await drift.observed(platform, path, None)
    assert condition(synced, "Drifted")["status"] == "False", synced

    await asyncio.to_thread(
        change_behind_the_platforms_back, own_settings, name, f"{live_secret}:1"
    )
    await observe(client, own_settings)
    drifted = await drift.observed(platform, path, synced["observed_at"])
    assert condition(drifted, "Drifted")["status"] == "True", drifted

    def about_this_service(event: dict) -> bool:
        return event["data"].get("resource") == f"service/{name}"

    [seen] = await until(lambda: delivered(receiver, "/drift", about_this_service))
    event = verified(seen, SECRET)
    assert event["type"] == "alert.warning" and seen.headers["x-conneskills-event"] == event["type"]
    data = event["data"]
    assert data["kind"] == "resource_drifted" and data["tenant"] is None
    assert f"service/{name} changed outside the platform" in data["message"]
    assert {e["field"]: (e["applied"], e["live"]) for e in data["drift"]} == {
        "image": (IMAGE, OTHER_IMAGE),
        "env.A": ("1", "changed"),
        "env.EXTRA": (None, "x"),
        "secrets.TOKEN": (f"{applied_secret}:latest", f"{live_secret}:1"),
    }
    assert data["drift_count"] == 4
    assert not [value for value in values if value.encode() in seen.body]
    # The event is the alert's: its id derives from the alert's key, as the alerts list shows it.
    listed = await platform.get("/api/v1/alerts", params={"kind": "resource_drifted"})
    [alert] = [a for a in listed.json()["items"] if a["resource"] == f"service/{name}"]
    assert data["alert_key"] == alert["job_id"]
    assert event["id"] == f"alert:resource_drifted:{alert['job_id']}"
    assert await announced(own_settings, "resource_drifted", alert["job_id"])

    # The same drift seen again: nothing new is raised, so nothing more is delivered.
    await observe(client, own_settings)
    again = await drift.observed(platform, path, drifted["observed_at"])
    assert condition(again, "Drifted")["status"] == "True"
    await asyncio.sleep(2.0)
    assert len(delivered(receiver, "/drift", about_this_service)) == 1
    answer = await platform.get(f"/api/webhooks/{hook['id']}/deliveries")
    assert [d["outcome"] for d in answer.json()["deliveries"]] == ["delivered"]
    assert (await platform.delete(f"/api/webhooks/{hook['id']}")).status_code == 204


async def test_a_failed_compensation_is_delivered_as_alert_critical(
    platform: httpx.AsyncClient, receiver, client: Client, own_settings: Settings
):
    hook = await subscribe(platform, receiver, "/critical", ["alert.critical"])
    # A job labelled as the job machinery labels one whose compensation failed (as in
    # test_alerts); the reaper's sweep raises it, and then announces it.
    labelled = f"labelled-{uuid.uuid4().hex[:8]}"
    await client.execute_workflow(
        OversightWorkflows.JOB_REAPER,
        ReaperInput(),
        id=labelled,
        task_queue=queue_for_workflow(own_settings.task_queue, OversightWorkflows.JOB_REAPER),
        search_attributes=TypedSearchAttributes(
            [SearchAttributePair(sa.LABELS, ["alert=compensation_failed"])]
        ),
    )

    def about_this_job(event: dict) -> bool:
        return event["data"].get("job_id") == labelled

    reaper = client.get_schedule_handle(reaper_schedule_id(own_settings))
    deadline = time.monotonic() + 60
    while not delivered(receiver, "/critical", about_this_job):
        # Visibility may list the labelled job only after a sweep or two.
        assert time.monotonic() < deadline, "no alert.critical delivered"
        with contextlib.suppress(Exception):  # the schedule may still be being created
            await reaper.trigger()
        await asyncio.sleep(2.0)
    await asyncio.sleep(2.0)  # sweeps still running find the alert raised: nothing more
    [seen] = delivered(receiver, "/critical", about_this_job)
    event = verified(seen, SECRET)
    assert event["type"] == "alert.critical"
    assert event["id"] == f"alert:compensation_failed:{labelled}"
    assert event["data"]["kind"] == "compensation_failed"
    assert "compensation step failed" in event["data"]["message"]
    assert await announced(own_settings, "compensation_failed", labelled)
    assert (await platform.delete(f"/api/webhooks/{hook['id']}")).status_code == 204
