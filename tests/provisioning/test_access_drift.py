"""Access drift: a private service made public behind the platform's back (`allUsers` added as an
invoker straight on the local cloud, with the official client's `set_iam_policy`) shows as an
`access.invokers` drift entry after the next observation, and `POST /services/{name}/reconcile`
puts the applied invokers back (the observer itself never writes them)."""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from providers.google.cloud_run import CloudRunServices
from providers.google.cloud_run_plan import invokers_for
from tests.helpers import drift
from tests.helpers.drift import condition, make_public_behind_the_platforms_back, observe
from tests.helpers.platform import unique_name, wait_for_job
from tests.helpers.provisioning import deploy


async def test_a_service_made_public_outside_shows_access_drift_until_reconciled(
    api, client: Client, settings
):
    name = unique_name("access")
    job = await deploy(api, name, allow_public_access=False)
    assert (await wait_for_job(api, job["job_id"]))["status"] == "completed"
    path = f"/api/v1/services/{name}"
    private = invokers_for(settings, public=False)
    cloud = CloudRunServices(settings)

    await observe(client, settings)
    synced = await drift.observed(api, path, None)
    assert condition(synced, "Synced")["status"] == "True" and synced["drift"] == []

    await asyncio.to_thread(make_public_behind_the_platforms_back, settings, name)
    await observe(client, settings)
    drifted = await drift.observed(api, path, synced["observed_at"])
    assert condition(drifted, "Drifted")["status"] == "True"
    assert drifted["drift"] == [
        {"field": "access.invokers", "applied": private, "live": sorted([*private, "allUsers"])}
    ]
    # Observing is read-only: the service is still public.
    assert "allUsers" in await asyncio.to_thread(cloud.iam_members, name)

    started = await api.post(f"/api/v1/services/{name}/reconcile")
    assert started.status_code == 202, started.text
    done = await wait_for_job(api, started.json()["job_id"])
    assert done["status"] == "completed", done
    assert done["result"]["reapplied_fields"] == ["access.invokers"]
    assert await asyncio.to_thread(cloud.iam_members, name) == private

    await observe(client, settings)
    back = await drift.observed(api, path, drifted["observed_at"])
    assert condition(back, "Synced")["status"] == "True" and back["drift"] == []
    # Nothing left to put back: a second reconcile changes nothing.
    again = await api.post(f"/api/v1/services/{name}/reconcile")
    assert (await wait_for_job(api, again.json()["job_id"]))["result"]["changed"] is False
