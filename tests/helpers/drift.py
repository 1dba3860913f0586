"""Running the drift observer from a test, changing a service behind the platform's back, and
reading what the observer recorded of a resource."""

from __future__ import annotations

import asyncio
import time

import httpx
from google.cloud import run_v2
from google.iam.v1 import policy_pb2
from temporalio.client import Client, ScheduleOverlapPolicy

from api.logic.provisioning.drift_schedule import schedule_id
from providers.google.cloud_run import INVOKER_ROLE, CloudRunServices

OTHER_IMAGE = "us-docker.pkg.dev/cloudrun/container/other:2"


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


def change_behind_the_platforms_back(settings, name: str, secret: str = "tok-b:2") -> None:
    """Straight on Cloud Run with the official client: another image, env `A` changed, `EXTRA`
    added, and the `TOKEN` secret reference moved to `secret` (`name:version`)."""
    cloud = CloudRunServices(settings)
    service = cloud.get(name)
    container = service.template.containers[0]
    container.image = OTHER_IMAGE
    env = {var.name: var for var in container.env}
    env["A"] = run_v2.EnvVar(name="A", value="changed")
    env["EXTRA"] = run_v2.EnvVar(name="EXTRA", value="x")
    secret_name, _, version = secret.partition(":")
    env["TOKEN"] = run_v2.EnvVar(
        name="TOKEN",
        value_source=run_v2.EnvVarSource(
            secret_key_ref=run_v2.SecretKeySelector(secret=secret_name, version=version)
        ),
    )
    del container.env[:]
    container.env.extend(env.values())
    cloud.client.update_service(service=service, retry=None).result(timeout=60)


def make_public_behind_the_platforms_back(settings, name: str) -> None:
    """Straight on Cloud Run with the official client's `set_iam_policy`: `allUsers` added as an
    invoker (the service made public)."""
    cloud = CloudRunServices(settings)
    resource = cloud.path(name)
    policy = cloud.client.get_iam_policy(request={"resource": resource})
    for binding in policy.bindings:
        if binding.role == INVOKER_ROLE:
            binding.members.append("allUsers")
            break
    else:
        policy.bindings.append(policy_pb2.Binding(role=INVOKER_ROLE, members=["allUsers"]))
    cloud.client.set_iam_policy(request={"resource": resource, "policy": policy})
