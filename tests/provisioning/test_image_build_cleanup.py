"""The cleanup after a terminated image build removes what the build made under its id: the
Artifact Registry repository and the Cloud Build trigger, and reports them."""

from __future__ import annotations

import pytest

from providers.google.artifact_registry import ArtifactRegistry
from providers.google.cloud_build import CloudBuild, connection_id
from tests.helpers.image_builds import DOCKERFILE, body, image_name, new_repo, setup
from tests.helpers.platform import wait_for_job, wait_for_pending_activity


@pytest.fixture
def slow_builds(localcloud):
    localcloud.set_build_seconds(60)
    yield localcloud
    localcloud.set_build_seconds(1.0)


async def test_the_cleanup_after_a_terminated_image_build_removes_its_registry_and_trigger(
    api, client, settings, slow_builds
):
    owner, name = new_repo(slow_builds, {"docker/Dockerfile": DOCKERFILE})
    image = image_name()
    job_id = (await setup(api, body(owner, name, image)))["job_id"]
    await wait_for_pending_activity(client, job_id, "image_build.run_first_build", seconds=60)
    region, cloud_build = settings.gcp_region, CloudBuild(settings)
    assert ArtifactRegistry(settings).get(image, region) is not None
    await client.get_workflow_handle(job_id).terminate(reason="stuck")

    forced = await api.post(f"/api/v1/jobs/{job_id}/force-cancel")
    assert forced.status_code == 202, forced.text
    cleanup = await wait_for_job(api, forced.json()["cleanup_job_id"], seconds=90)

    assert cleanup["status"] == "completed", cleanup
    removed = cleanup["result"]["removed"]
    assert f"artifact registry repository {image}" in removed, removed
    assert any(what.startswith("cloud build trigger") for what in removed), removed
    assert ArtifactRegistry(settings).get(image, region) is None
    assert cloud_build.get_trigger(f"build-{image}", region) is None
    # The connection is the platform's, shared with every build of the owner: it stays.
    assert cloud_build.get_connection(connection_id(owner), region) is not None
