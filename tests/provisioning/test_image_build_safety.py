"""Image builds that meet trouble: git's own errors end the job (and its undo) at once, two builds
sharing a GitHub owner or repository run side by side, and a connection the platform did not make is
never adopted. Real worker, real git hosting and Cloud Build in the local cloud."""

from __future__ import annotations

import asyncio
import subprocess

import pytest
from google.cloud.devtools import cloudbuild_v1 as cb1

from contracts.provisioning.image_builds import PLATFORM_MARK
from providers.google.artifact_registry import ArtifactRegistry
from providers.google.cloud_build import CloudBuild, connection_id, linked_repository_id
from tests.helpers.image_builds import DOCKERFILE, body, image_name, new_repo, setup
from tests.helpers.platform import wait_for_job, wait_for_pending_activity


@pytest.fixture
def slow_builds(localcloud):
    localcloud.set_build_seconds(60)
    yield localcloud
    localcloud.set_build_seconds(1.0)


@pytest.fixture
def slow_operations(localcloud):
    """Creates that stay pending for seconds: two jobs' creates of one resource overlap for sure."""
    localcloud.set_lro_delay(3.0)
    yield localcloud
    localcloud.set_lro_delay(0.2)


async def test_the_answer_carries_the_configuration_and_a_github_url_is_accepted(
    api, settings, localcloud
):
    owner, name = new_repo(localcloud, {"docker/Dockerfile": DOCKERFILE})
    image = image_name()
    url = f"https://github.com/{owner}/{name}.git"
    started = await setup(api, body(owner, name, image, github_repo=url))
    registry = f"{settings.gcp_region}-docker.pkg.dev/{settings.gcp_project}/{image}"
    assert started["artifact_registry_url"] == registry
    assert started["image"] == f"{registry}/{image}"
    assert started["trigger_name"] == f"build-{image}"

    job = await wait_for_job(api, started["job_id"], seconds=90)
    assert job["status"] == "completed", job
    assert job["result"]["github_repo"] == f"{owner}/{name}"
    assert job["result"]["artifact_registry_url"] == started["artifact_registry_url"]
    assert job["result"]["trigger_name"] == started["trigger_name"]


async def test_a_missing_repository_fails_at_once_with_a_readable_error(api, settings):
    job = await wait_for_job(
        api, (await setup(api, body("nobody-here", "nothing", image_name())))["job_id"]
    )
    assert job["status"] == "failed", job
    assert "repository '<endpoint>' not found" in job["error"]
    assert "conneskills-image-builds" not in job["error"]
    assert "/tmp" not in job["error"]


async def test_an_undo_that_meets_a_final_git_error_is_reported_not_retried(
    api, client, settings, slow_builds, tmp_path
):
    owner, name = new_repo(slow_builds, {"docker/Dockerfile": DOCKERFILE})
    # A branch other than the repository's default, so that it can be deleted under the job.
    remote, work = f"{slow_builds.url}/git/{owner}/{name}.git", tmp_path / "work"
    subprocess.run(["git", "clone", "-q", remote, str(work)], check=True)
    subprocess.run(["git", "-C", str(work), "push", "-q", "origin", "HEAD:release"], check=True)
    image, region = image_name(), settings.gcp_region
    job_id = (await setup(api, body(owner, name, image, branch="release")))["job_id"]
    await wait_for_pending_activity(client, job_id, "image_build.run_first_build", seconds=60)
    # The branch goes away: reverting the job's commit on it can never succeed.
    subprocess.run(["git", "-C", str(work), "push", "-q", "origin", ":release"], check=True)
    assert (await api.post(f"/api/v1/jobs/{job_id}/cancel")).status_code == 202

    job = await wait_for_job(api, job_id, seconds=60)
    assert job["status"] == "cancelled", job
    entries = {entry["step"]: entry for entry in job["compensation"]}
    revert = entries["revert this job's build config commit"]
    assert revert["status"] == "failed", job["compensation"]
    assert "release" in revert["error"]
    # The undos after it still ran.
    assert ArtifactRegistry(settings).get(image, region) is None
    assert CloudBuild(settings).get_trigger(f"build-{image}", region) is None


async def test_two_builds_of_one_owner_at_once_share_its_connection_and_links(
    api, settings, slow_operations
):
    owner, first = new_repo(slow_operations, {"docker/Dockerfile": DOCKERFILE})
    second = "other"
    slow_operations.create_git_repo(owner, second, {"docker/Dockerfile": DOCKERFILE})
    requests = [
        body(owner, first, image_name()),
        body(owner, first, image_name()),
        body(owner, second, image_name()),
    ]
    started = await asyncio.gather(*(setup(api, request) for request in requests))
    jobs = await asyncio.gather(*(wait_for_job(api, s["job_id"], seconds=120) for s in started))
    assert [job["status"] for job in jobs] == ["completed"] * 3, [job.get("error") for job in jobs]

    cloud_build, region = CloudBuild(settings), settings.gcp_region
    connection = cloud_build.get_connection(connection_id(owner), region)
    for key, value in PLATFORM_MARK.items():
        assert connection.annotations[key] == value
    links = cloud_build.linked_repositories(connection.name)
    assert sorted(link.name.rsplit("/", 1)[-1] for link in links) == sorted(
        [linked_repository_id(owner, first), linked_repository_id(owner, second)]
    )


async def test_a_cancelled_build_leaves_the_shared_connection_to_the_others(
    api, client, settings, slow_builds
):
    owner, name = new_repo(slow_builds, {"docker/Dockerfile": DOCKERFILE})
    job_id = (await setup(api, body(owner, name, image_name())))["job_id"]
    await wait_for_pending_activity(client, job_id, "image_build.run_first_build", seconds=60)
    assert (await api.post(f"/api/v1/jobs/{job_id}/cancel")).status_code == 202
    job = await wait_for_job(api, job_id, seconds=60)
    assert job["status"] == "cancelled", job
    assert all(entry["status"] == "ok" for entry in job["compensation"]), job["compensation"]
    connection = CloudBuild(settings).get_connection(connection_id(owner), settings.gcp_region)
    assert connection is not None


async def test_a_connection_the_platform_did_not_make_is_not_adopted(api, settings, localcloud):
    owner, name = new_repo(localcloud, {"docker/Dockerfile": DOCKERFILE})
    cloud_build, region = CloudBuild(settings), settings.gcp_region
    cloud_build.create_connection(connection_id(owner), region, {"made": "by-hand"}).result(
        timeout=30
    )
    job = await wait_for_job(
        api, (await setup(api, body(owner, name, image_name())))["job_id"], seconds=90
    )
    assert job["status"] == "failed", job
    assert "was not made by the platform" in job["error"]
    connection = cloud_build.get_connection(connection_id(owner), region)
    assert dict(connection.annotations) == {"made": "by-hand"}
    assert cloud_build.linked_repositories(connection.name) == []


async def test_a_trigger_the_platform_did_not_make_is_not_adopted(api, settings, localcloud):
    owner, name = new_repo(localcloud, {"docker/Dockerfile": DOCKERFILE})
    image, region, cloud_build = image_name(), settings.gcp_region, CloudBuild(settings)
    # The platform's connection and link, and by hand a trigger exactly as the job would make it.
    connection = cloud_build.create_connection(connection_id(owner), region, PLATFORM_MARK)
    connection = connection.result(timeout=30)
    remote = f"{settings.resolved_github_base_url}/{owner}/{name}.git"
    link_id = linked_repository_id(owner, name)
    link = cloud_build.link_repository(connection.name, link_id, remote, PLATFORM_MARK)
    link = link.result(timeout=30)
    hand_made = cloud_build.create_trigger(
        cb1.BuildTrigger(
            name=f"build-{image}",
            description="made by hand",
            filename="ci/cloudbuild.yaml",
            tags=["team-web"],
            repository_event_config=cb1.RepositoryEventConfig(
                repository=link.name, push=cb1.PushFilter(branch="^main$")
            ),
        ),
        region,
    )
    job = await wait_for_job(
        api, (await setup(api, body(owner, name, image)))["job_id"], seconds=90
    )
    assert job["status"] == "failed", job
    assert f"trigger build-{image} exists but was not made by the platform" in job["error"]
    trigger = cloud_build.get_trigger(f"build-{image}", region)
    assert (trigger.id, trigger.description, list(trigger.tags)) == (
        hand_made.id,
        "made by hand",
        ["team-web"],
    )
    # What the job made is undone around it: its repository, and its commit by a revert.
    assert ArtifactRegistry(settings).get(image, region) is None
    assert localcloud.git_commits(owner, name)[0]["subject"].startswith("Revert")
