"""A hosted Docker service changed behind the platform's back (one of its containers removed
straight through the local cloud's Docker Engine API) shows `Drifted` with that container on
`GET /service/{id}` after the drift observer's next run (its schedule triggered through Temporal's
API); in sync before, and no secret value in what it reports."""

from __future__ import annotations

import asyncio
import io
import time
import uuid
import zipfile

import docker
import httpx
from temporalio.client import Client

from contracts.hosting.services import COMPOSE_SERVICE_LABEL, SERVICE_ID_LABEL
from tests.helpers import drift
from tests.helpers.drift import condition, observe
from tests.helpers.platform import wait_for_job

PASSWORD = "s3cret-drift-pass"


async def observed(api: httpx.AsyncClient, service_id: int, after: str | None, seconds: float = 30):
    return await drift.observed(api, f"/service/{service_id}", after, seconds)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.html", "<h1>hi</h1>")
    return buffer.getvalue()


async def test_a_container_removed_behind_the_platforms_back_is_reported(
    hosting, client: Client, settings, localcloud
):
    userid = f"u-{uuid.uuid4().hex[:10]}"
    made = await hosting.post("/users", data={"userid": userid, "username": "Ana"})
    assert made.status_code == 201, made.text
    form = {
        "userid": userid,
        "service_name": f"svc-{uuid.uuid4().hex[:8]}",
        "service_types": "Static",
        "admin_pass": PASSWORD,
    }
    files = [(key, (None, value)) for key, value in form.items()]
    files.append(("zip_file", ("site.zip", _zip(), "application/zip")))
    answer = await hosting.post("/service", files=files)
    assert answer.status_code == 202, answer.text
    service_id = answer.json()["service_id"]
    job = await wait_for_job(hosting, answer.json()["job_id"], seconds=90)
    assert job["status"] == "completed", job

    await observe(client, settings)
    synced = await observed(hosting, service_id, None)
    assert condition(synced, "Synced")["status"] == "True", synced
    assert condition(synced, "Ready")["status"] == "True", synced

    engine = docker.DockerClient(base_url=localcloud.url.replace("http://", "tcp://"))
    labels = {"label": [f"{SERVICE_ID_LABEL}={service_id}", f"{COMPOSE_SERVICE_LABEL}=static"]}
    (container,) = engine.api.containers(all=True, filters=labels)
    await asyncio.to_thread(engine.api.remove_container, container["Id"], force=True)

    await observe(client, settings)
    drifted = await observed(hosting, service_id, synced["observed_at"])
    assert condition(drifted, "Drifted")["status"] == "True"
    assert drifted["drift"] == [{"field": "static", "applied": "present", "live": None}]
    assert PASSWORD not in str(drifted)
    alerts = await hosting.get("/api/v1/alerts", params={"kind": "resource_drifted"})
    mine = [a for a in alerts.json()["items"] if a["resource"] == f"docker_service/{service_id}"]
    assert len(mine) == 1 and mine[0]["status"] == "open"
    deleted = await hosting.post(f"/control-service/{service_id}/delete")
    assert (await wait_for_job(hosting, deleted.json()["job_id"]))["status"] == "completed"

    # Deleted by the platform: no longer observed, and its drift alert resolved.
    await observe(client, settings)
    deadline = time.monotonic() + 30
    while mine[0]["status"] != "resolved":
        assert time.monotonic() < deadline, mine
        await asyncio.sleep(0.2)
        alerts = await hosting.get("/api/v1/alerts", params={"kind": "resource_drifted"})
        mine = [a for a in alerts.json()["items"] if a["resource"] == mine[0]["resource"]]
