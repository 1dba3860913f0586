"""Running the drift observer from a test and reading what it recorded of a resource; drifting a
service behind the platform's back."""

from __future__ import annotations

import asyncio
import time

import httpx
from google.cloud import run_v2
from temporalio.client import Client, ScheduleOverlapPolicy

from api.logic.provisioning.drift_schedule import schedule_id
from providers.google.cloud_run import CloudRunServices


async def observe(client: Client, settings) -> None:
    """Runs the drift observer now (the API creates its schedule in the background as it starts).
    A run already going on is waited for, then one more runs (buffered): that one sees every change
    made before this call. Two observers at once are not what the schedule ever runs."""
    handle = client.get_schedule_handle(schedule_id(settings))
    for _ in range(200):
        try:
            await handle.describe()
            break
        except Exception:  # not created yet
            await asyncio.sleep(0.1)
    await handle.trigger(overlap=ScheduleOverlapPolicy.BUFFER_ONE)


async def observed(api: httpx.AsyncClient, path: str, after: str | None, seconds: float = 30):
    """The resource at `path` once an observation newer than `after` is recorded."""
    deadline = time.monotonic() + seconds
    while True:
        response = await api.get(path)
        assert response.status_code == 200, response.text
        body = response.json()
        if body["observed_at"] and (after is None or body["observed_at"] > after):
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} not observed after {after}: {body}")
        await asyncio.sleep(0.2)


def condition(body: dict, kind: str) -> dict:
    return next(c for c in body["conditions"] if c["type"] == kind)


def drift_service(settings, name: str, image: str, env: dict[str, str]) -> None:
    """Changes a deployed service behind the platform's back, straight on Cloud Run with the
    official client (as an operator's `gcloud run services update` would): its image, and the given
    environment variables set (others kept)."""
    cloud = CloudRunServices(settings)
    service = cloud.get(name)
    container = service.template.containers[0]
    container.image = image
    values = {var.name: var for var in container.env}
    values.update({key: run_v2.EnvVar(name=key, value=value) for key, value in env.items()})
    del container.env[:]
    container.env.extend(values.values())
    cloud.client.update_service(service=service, retry=None).result(timeout=60)
