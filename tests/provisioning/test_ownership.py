"""A job undoes only what it did (issue 7, finding 1): the Cloud Run service a deploy creates or
changes carries its job id (label `job-id`), and the deploy's compensations delete or restore the
service only while that label says it is as this job left it."""

from __future__ import annotations

import asyncio

from google.cloud import run_v2
from temporalio.testing import ActivityEnvironment

from activities.provisioning.cloud_run import CloudRunActivities
from contracts.provisioning.services import DeleteServiceInput, RestoreServiceInput
from providers.google.cloud_run import CloudRunServices
from providers.google.cloud_run_spec import JOB_LABEL
from tests.helpers.platform import unique_name, wait_for_job
from tests.helpers.provisioning import deploy


async def test_a_create_that_finds_the_service_taken_does_not_delete_it(
    api, settings, clean_faults
):
    name = unique_name("taken")
    owner = (await deploy(api, name))["job_id"]
    assert (await wait_for_job(api, owner))["status"] == "completed"
    # The next deploy does not see it (as if another platform created it meanwhile), so it
    # creates, and Cloud Run answers ALREADY_EXISTS.
    unseen = clean_faults.inject_fault(
        fail_next=2, code=404, method="GET", path_contains=f"/services/{name}"
    )
    taken = clean_faults.inject_fault(
        fail_next=1, code=409, method="POST", path_contains=f"serviceId={name}"
    )

    job = await wait_for_job(api, (await deploy(api, name))["job_id"], seconds=60)

    assert job["status"] == "failed", job
    assert (clean_faults.fired(unseen), clean_faults.fired(taken)) == (2, 1)
    assert f"creating service {name}" in job["error"]
    logs = (await api.get(f"/api/v1/jobs/{job['job_id']}/logs")).json()["logs"]
    assert any("compensating: delete the new service" in line for line in logs)
    assert any("nothing to undo" in line for line in logs)
    service = await asyncio.to_thread(CloudRunServices(settings).get, name)
    assert service is not None and service.labels[JOB_LABEL] == owner
    assert (await api.get(f"/api/v1/services/{name}")).status_code == 200


async def test_the_service_carries_the_id_of_the_job_that_last_applied_it(api, settings):
    name = unique_name("label")
    created = (await deploy(api, name))["job_id"]
    assert (await wait_for_job(api, created))["status"] == "completed"
    cloud = CloudRunServices(settings)
    assert (await asyncio.to_thread(cloud.get, name)).labels[JOB_LABEL] == created

    update = await api.put(
        f"/api/v1/services/{name}", json={"service_name": name, "env_vars": {"A": "1"}}
    )
    assert (await wait_for_job(api, update.json()["job_id"]))["status"] == "completed"
    assert (await asyncio.to_thread(cloud.get, name)).labels[JOB_LABEL] == update.json()["job_id"]


async def test_compensations_leave_alone_a_service_another_job_applied(api, settings):
    name = unique_name("notmine")
    owner = (await deploy(api, name, env_vars={"A": "owner"}))["job_id"]
    assert (await wait_for_job(api, owner))["status"] == "completed"
    cloud = CloudRunServices(settings)
    activities = CloudRunActivities(settings)
    region = settings.gcp_region
    older_config = run_v2.Service(await asyncio.to_thread(cloud.get, name))
    older_config.template.containers[0].env[0].value = "older"
    older = RestoreServiceInput(region=region, service_json=run_v2.Service.to_json(older_config))
    activity_env = ActivityEnvironment()

    delete = DeleteServiceInput(service_name=name, region=region, only_if_applied_by="deploy-other")
    assert await activity_env.run(activities.delete_service, delete) is False
    restore = older.model_copy(update={"only_if_applied_by": "deploy-other"})
    assert await activity_env.run(activities.restore_service, restore) is False
    service = await asyncio.to_thread(cloud.get, name)
    assert service is not None and service.template.containers[0].env[0].value == "owner"

    # The job that applied it may undo it.
    mine = older.model_copy(update={"only_if_applied_by": owner})
    assert await activity_env.run(activities.restore_service, mine) is True
    service = await asyncio.to_thread(cloud.get, name)
    assert service.template.containers[0].env[0].value == "older"
