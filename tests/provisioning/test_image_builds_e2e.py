"""Image builds end to end: API → SetupImageBuild on a real worker → real git hosting, Artifact
Registry and Cloud Build in the local cloud, through the official clients."""

from __future__ import annotations

import subprocess

import pytest

from contracts.provisioning.image_builds import COMMIT_TRAILER, PLATFORM_MARK
from providers.google.artifact_registry import ArtifactRegistry
from providers.google.cloud_build import CloudBuild, connection_id
from temporal import search_attributes as sa
from tests.helpers.image_builds import DOCKERFILE, body, image_name, new_repo, setup
from tests.helpers.platform import wait_for_job, wait_for_pending_activity


async def test_fresh_setup_creates_the_pipeline_pushes_the_config_and_builds(
    api, settings, localcloud
):
    owner, name = new_repo(localcloud, {"docker/Dockerfile": DOCKERFILE, "main.py": "print(1)\n"})
    image = image_name()
    started = await setup(api, body(owner, name, image))
    assert started["job_id"].startswith("setup_image_build-")
    job = await wait_for_job(api, started["job_id"], seconds=90)
    assert job["status"] == "completed", job
    result = job["result"]
    assert job["subject"] == {"kind": "image_build", "name": image}
    assert (
        result["artifact_registry_url"]
        == f"us-central1-docker.pkg.dev/{settings.gcp_project}/{image}"
    )
    assert result["build_status"] == "SUCCESS" and result["note"] is None
    assert result["cloudbuild_committed"] is True

    commits = localcloud.git_commits(owner, name)
    assert len(commits) == 2
    assert commits[0]["sha"] == result["commit_sha"]
    assert f"{COMMIT_TRAILER}: {started['job_id']}" in commits[0]["body"]

    cloud_build = CloudBuild(settings)
    trigger = cloud_build.get_trigger(result["trigger_name"], settings.gcp_region)
    assert trigger.id == result["trigger_id"]
    assert trigger.filename == "ci/cloudbuild.yaml"
    assert trigger.repository_event_config.push.branch == "^main$"
    build = cloud_build.get_build(result["build_id"], settings.gcp_region)
    assert build.substitutions["COMMIT_SHA"] == result["commit_sha"]

    images = ArtifactRegistry(settings).docker_images(image, settings.gcp_region)
    assert sorted(images[0].tags) == sorted([result["commit_sha"], "latest"])


async def test_repeating_a_setup_creates_nothing_twice_and_commits_nothing(
    api, settings, localcloud
):
    owner, name = new_repo(localcloud, {"docker/Dockerfile": DOCKERFILE})
    image = image_name()
    first = await wait_for_job(
        api, (await setup(api, body(owner, name, image)))["job_id"], seconds=90
    )
    assert first["status"] == "completed", first
    commits = localcloud.git_commits(owner, name)

    again = await wait_for_job(
        api, (await setup(api, body(owner, name, image)))["job_id"], seconds=90
    )
    assert again["status"] == "completed", again
    assert again["result"]["cloudbuild_committed"] is False
    assert again["result"]["trigger_id"] == first["result"]["trigger_id"]
    assert again["result"]["build_status"] == "SUCCESS"
    assert localcloud.git_commits(owner, name) == commits
    # The image's repository is the platform's, shared by the image's builds: the second adopts it.
    repository = ArtifactRegistry(settings).get(image, settings.gcp_region)
    assert repository.labels["job-id"] == first["job_id"]
    assert all(repository.labels[key] == value for key, value in PLATFORM_MARK.items())


async def test_a_missing_dockerfile_fails_the_job_naming_the_path(api, settings, localcloud):
    owner, name = new_repo(localcloud, {"README.md": "no Dockerfile here\n"})
    image = image_name()
    job = await wait_for_job(api, (await setup(api, body(owner, name, image)))["job_id"])
    assert job["status"] == "failed", job
    assert "docker/Dockerfile not found" in job["error"]
    assert ArtifactRegistry(settings).get(image, settings.gcp_region) is None
    assert len(localcloud.git_commits(owner, name)) == 1


async def test_a_failed_first_build_still_completes_with_a_note(api, settings, localcloud):
    broken = "FROM python:3.12-slim\nRUN exit 1\n"
    owner, name = new_repo(localcloud, {"docker/Dockerfile": broken})
    job = await wait_for_job(
        api, (await setup(api, body(owner, name, image_name())))["job_id"], seconds=90
    )
    assert job["status"] == "completed", job
    assert job["result"]["build_status"] == "FAILURE"
    assert "the trigger runs on the next push to main" in job["result"]["note"]
    assert "returned a non-zero code: 1" in job["result"]["note"]
    trigger = CloudBuild(settings).get_trigger(job["result"]["trigger_name"], settings.gcp_region)
    assert trigger is not None


async def test_a_fault_on_the_trigger_step_is_retried_to_success(api, settings, clean_faults):
    owner, name = new_repo(clean_faults, {"docker/Dockerfile": DOCKERFILE})
    image = image_name()
    # The trigger's create names it only in its body.
    outage = clean_faults.inject_fault(
        fail_next=2,
        code=503,
        method="POST",
        path_contains="/triggers?",
        body_contains=f'"build-{image}"',
    )
    job = await wait_for_job(
        api, (await setup(api, body(owner, name, image)))["job_id"], seconds=90
    )
    assert job["status"] == "completed", job
    assert clean_faults.fired(outage) == 2
    assert CloudBuild(settings).get_trigger(job["result"]["trigger_name"], settings.gcp_region)


@pytest.fixture
def slow_builds(localcloud):
    localcloud.set_build_seconds(60)
    yield localcloud
    localcloud.set_build_seconds(1.0)


async def test_cancel_during_the_first_build_removes_what_the_job_created(
    api, client, settings, slow_builds
):
    owner, name = new_repo(slow_builds, {"docker/Dockerfile": DOCKERFILE})
    image = image_name()
    job_id = (await setup(api, body(owner, name, image)))["job_id"]
    await wait_for_pending_activity(client, job_id, "image_build.run_first_build", seconds=60)
    assert (await api.post(f"/api/v1/jobs/{job_id}/cancel")).status_code == 202
    job = await wait_for_job(api, job_id, seconds=60)
    assert job["status"] == "cancelled", job

    region, cloud_build = settings.gcp_region, CloudBuild(settings)
    assert ArtifactRegistry(settings).get(image, region) is None
    assert cloud_build.get_trigger(f"build-{image}", region) is None
    # The connection is the platform's, shared with every build of the owner: it stays.
    assert cloud_build.get_connection(connection_id(owner), region) is not None
    commits = slow_builds.git_commits(owner, name)
    # The job's commit stays in history; a revert on top takes its file away again.
    assert len(commits) == 3
    assert commits[0]["subject"].startswith("Revert the Cloud Build config")
    assert f"This reverts commit {commits[1]['sha']}" in commits[0]["body"]
    parent = f"projects/{settings.gcp_project}/locations/{region}"
    builds = cloud_build.builds.list_builds(request={"parent": parent})
    ours = [b for b in builds if b.substitutions.get("REPO_FULL_NAME") == f"{owner}/{name}"]
    assert [b.status.name for b in ours] == ["CANCELLED"]


@pytest.mark.parametrize(
    "change",
    [
        {"github_repo": "https://gitlab.com/acme/app"},
        {"github_repo": "http://github.com/acme/app"},
        {"github_repo": "https://github.com/acme/app/tree/main"},
        {"cloudbuild_path": ".git/config"},
        {"cloudbuild_path": ".git/hooks/post-checkout"},
        {"cloudbuild_path": "src/.GIT/config"},
        {"dockerfile_path": ".git/HEAD"},
        {"cloudbuild_path": "docker/Dockerfile"},
        {"cloudbuild_path": "./docker/Dockerfile"},
        {"github_repo": "acme/../etc"},
        {"github_repo": "acme"},
        {"dockerfile_path": "/etc/passwd"},
        {"dockerfile_path": "../Dockerfile"},
        {"dockerfile_path": "Dockerfile; rm -rf /"},
        {"cloudbuild_path": "ci/$(reboot).yaml"},
        {"branch": "main`id`"},
        {"branch": "a..b"},
        {"image_name": "Bad_Name"},
        {"unexpected": 1},
    ],
)
async def test_bad_input_is_refused_with_400_and_no_job(api, client, change):
    image = image_name()
    request = {**body("acme", "app", image), **change}
    response = await api.post("/api/v1/services/setup-image-build", json=request)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"]
    query = f"{sa.SUBJECT.name} = 'image_build:{image}'"
    assert (await client.count_workflows(query)).count == 0


async def test_the_readme_example_builds_the_seeded_repository(api, localcloud):
    request = {
        "image_name": "hello-image",
        "github_repo": "conneskills/hello-image",
        "dockerfile_path": "Dockerfile",
        "cloudbuild_path": "cloudbuild.yaml",
    }
    job = await wait_for_job(api, (await setup(api, request))["job_id"], seconds=90)
    assert job["status"] == "completed", job
    assert job["result"]["build_status"] == "SUCCESS"
    assert localcloud.git_commits("conneskills", "hello-image")[0]["subject"].startswith(
        "Add Cloud Build config for image hello-image"
    )


async def test_a_symlink_that_leaves_the_repository_fails_the_job_and_writes_nothing(
    api, settings, localcloud, tmp_path
):
    owner, name = new_repo(localcloud, {"docker/Dockerfile": DOCKERFILE})
    # Replace ci/cloudbuild.yaml with a link to a file of the worker's, through a real push.
    outside = tmp_path / "worker-file"
    outside.write_text("precious\n")
    work = tmp_path / "work"
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "clone", "-q", f"{localcloud.url}/git/{owner}/{name}.git", str(work)])
    (work / "ci").mkdir()
    (work / "ci" / "cloudbuild.yaml").symlink_to(outside)
    subprocess.run(["git", "-C", str(work), "add", "ci"], check=True)
    subprocess.run(["git", *identity, "-C", str(work), "commit", "-qm", "link"], check=True)
    subprocess.run(["git", "-C", str(work), "push", "-q", "origin", "HEAD:main"], check=True)

    job = await wait_for_job(api, (await setup(api, body(owner, name, image_name())))["job_id"])
    assert job["status"] == "failed", job
    assert "leaves the repository" in job["error"]
    assert outside.read_text() == "precious\n"


async def test_a_registry_repository_the_platform_did_not_make_fails_the_job_and_is_left_alone(
    api, settings, localcloud
):
    owner, name = new_repo(localcloud, {"docker/Dockerfile": DOCKERFILE})
    image, region = image_name(), settings.gcp_region
    registry = ArtifactRegistry(settings)
    registry.create_docker(image, region, {"team": "web"}, "made by hand").result(timeout=30)
    job = await wait_for_job(api, (await setup(api, body(owner, name, image)))["job_id"])
    assert job["status"] == "failed", job
    assert f"repository {image} exists but was not made by the platform" in job["error"]
    repository = registry.get(image, region)
    assert repository.description == "made by hand"
    assert dict(repository.labels) == {"team": "web"}
    assert CloudBuild(settings).get_trigger(f"build-{image}", region) is None
    assert len(localcloud.git_commits(owner, name)) == 1
