"""Cloud Build v1 (triggers, builds) and v2 (connections, linked repositories) on the local cloud,
driven by the real clients (REST); builds read the real cloudbuild.yaml from the git hosting."""

from __future__ import annotations

import subprocess
import time

import pytest
from google.api_core import exceptions
from google.cloud.devtools import cloudbuild_v1 as cb1
from google.cloud.devtools import cloudbuild_v2 as cb2

from providers.google.artifact_registry import ArtifactRegistry
from providers.google.cloud_build import CloudBuild, build_config
from tests.localcloud import FAST_POLLING, unique

REGION = "us-central1"
DOCKERFILE = 'FROM python:3.12-slim\nCMD ["python"]\n'


@pytest.fixture
def cb(localcloud_settings) -> CloudBuild:
    return CloudBuild(localcloud_settings)


def linked(cb: CloudBuild, localcloud, files: dict[str, str]) -> tuple[str, str]:
    """A git repository with `files`, linked through a new connection; (link name, owner)."""
    owner = unique("owner")
    localcloud.create_git_repo(owner, "app", files)
    connection = cb.create_connection(f"github-{owner}", REGION, {}).result(polling=FAST_POLLING)
    link = cb.link_repository(
        connection.name, "app", f"{localcloud.url}/git/{owner}/app.git", {}
    ).result(polling=FAST_POLLING)
    return link.name, owner


def trigger(name: str, repository: str, filename: str = "cloudbuild.yaml") -> cb1.BuildTrigger:
    return cb1.BuildTrigger(
        name=name,
        filename=filename,
        repository_event_config=cb1.RepositoryEventConfig(
            repository=repository, push=cb1.PushFilter(branch="^main$")
        ),
    )


def wait_build(cb: CloudBuild, build_id: str) -> tuple[cb1.Build, list[str]]:
    """The ended build and the statuses it was seen in."""
    deadline = time.monotonic() + 20
    seen = []
    while time.monotonic() < deadline:
        build = cb.get_build(build_id, REGION)
        if not seen or seen[-1] != build.status.name:
            seen.append(build.status.name)
        if build.status.name in ("SUCCESS", "FAILURE", "CANCELLED"):
            return build, seen
        time.sleep(0.05)
    raise AssertionError(f"build {build_id} never ended: {seen}")


def test_a_connection_without_an_app_installation_waits_for_it(cb, localcloud):
    connection = cb.repositories.create_connection(
        parent=f"projects/p/locations/{REGION}",
        connection_id=unique("github"),
        connection=cb2.Connection(
            github_config=cb2.GitHubConfig(
                authorizer_credential=cb2.OAuthCredential(
                    oauth_token_secret_version="projects/p/secrets/t/versions/1"
                )
            )
        ),
    ).result(polling=FAST_POLLING)
    stage = connection.installation_state.stage
    assert stage == cb2.InstallationState.Stage.PENDING_INSTALL_APP
    assert connection.installation_state.action_uri.startswith("https://github.com/apps/")
    with pytest.raises(exceptions.BadRequest, match="not ready"):
        cb.link_repository(connection.name, "app", "https://github.com/o/app.git", {})


def test_triggers_are_created_by_regional_and_global_paths_and_found_by_name_or_id(cb, localcloud):
    repository, _ = linked(cb, localcloud, {"Dockerfile": DOCKERFILE})
    name = unique("t")
    created = cb.create_trigger(trigger(name, repository), REGION)
    assert (
        created.resource_name
        == f"projects/conneskills-local/locations/{REGION}/triggers/{created.id}"
    )
    assert cb.get_trigger(name, REGION).id == created.id
    assert cb.get_trigger(created.id, REGION).name == name
    with pytest.raises(exceptions.Conflict):
        cb.create_trigger(trigger(name, repository), REGION)

    # With project_id set, the client takes the global path with a `?parent=` query.
    other = cb.builds.create_build_trigger(
        parent=f"projects/conneskills-local/locations/{REGION}",
        project_id="conneskills-local",
        trigger=trigger(unique("t"), repository),
    )
    assert cb.get_trigger(other.id, REGION) is not None
    assert cb.delete_trigger(other.id, REGION) is True
    assert cb.get_trigger(other.id, REGION) is None


@pytest.mark.parametrize("name", ["-starts-with-dash", "has_underscore", "x" * 65])
def test_invalid_trigger_names_are_refused(cb, localcloud, name):
    repository, _ = linked(cb, localcloud, {"Dockerfile": DOCKERFILE})
    with pytest.raises(exceptions.BadRequest):
        cb.create_trigger(trigger(name, repository), REGION)


def test_a_trigger_on_an_unknown_repository_is_refused(cb):
    missing = f"projects/conneskills-local/locations/{REGION}/connections/none/repositories/r"
    with pytest.raises(exceptions.BadRequest, match="not found"):
        cb.create_trigger(trigger(unique("t"), missing), REGION)


def test_a_build_runs_the_repository_config_and_pushes_every_tag(
    cb, localcloud, localcloud_settings
):
    image_repo = unique("img")
    registry = ArtifactRegistry(localcloud_settings)
    registry.create_docker(image_repo, REGION, {}, "").result(polling=FAST_POLLING)
    image = f"{REGION}-docker.pkg.dev/conneskills-local/{image_repo}/app"
    files = {"Dockerfile": DOCKERFILE, "cloudbuild.yaml": build_config(image, "Dockerfile")}
    repository, _ = linked(cb, localcloud, files)
    created = cb.create_trigger(trigger(unique("t"), repository), REGION)

    build, seen = wait_build(cb, cb.run_trigger(created.id, REGION, "main"))
    assert seen == ["QUEUED", "WORKING", "SUCCESS"]
    commit = build.substitutions["COMMIT_SHA"]
    assert sorted(r.name for r in build.results.images) == [f"{image}:{commit}", f"{image}:latest"]
    images = registry.docker_images(image_repo, REGION)
    assert sorted(images[0].tags) == sorted([commit, "latest"])


@pytest.mark.parametrize(
    ("files", "detail"),
    [
        ({"Dockerfile": DOCKERFILE}, "cloudbuild.yaml does not exist"),
        ({"cloudbuild.yaml": "steps: [{name: x, bogus: 1}]"}, "unknown field"),
        ({"Dockerfile": "FROM a\nRUN false\n"}, "returned a non-zero code: 1"),
        ({"Dockerfile": DOCKERFILE}, 'Repository "nope" not found'),
    ],
)
def test_a_build_fails_as_the_real_one_would(cb, localcloud, files, detail):
    files = dict(files)
    image = f"{REGION}-docker.pkg.dev/conneskills-local/nope/app"
    if "does not exist" not in detail and "cloudbuild.yaml" not in files:
        files["cloudbuild.yaml"] = build_config(image, "Dockerfile")
    repository, _ = linked(cb, localcloud, files)
    created = cb.create_trigger(trigger(unique("t"), repository), REGION)
    build, _ = wait_build(cb, cb.run_trigger(created.id, REGION, "main"))
    assert build.status == cb1.Build.Status.FAILURE
    assert detail in build.status_detail


def test_a_running_build_can_be_cancelled(cb, localcloud):
    files = {"Dockerfile": DOCKERFILE, "cloudbuild.yaml": "steps: [{name: ubuntu, args: [true]}]"}
    repository, _ = linked(cb, localcloud, files)
    created = cb.create_trigger(trigger(unique("t"), repository), REGION)
    localcloud.set_build_seconds(30)
    try:
        build_id = cb.run_trigger(created.id, REGION, "main")
        cb.cancel_build(build_id, REGION)
    finally:
        localcloud.set_build_seconds(1.0)
    assert cb.get_build(build_id, REGION).status == cb1.Build.Status.CANCELLED


def test_a_push_to_the_triggers_branch_starts_a_build_of_the_pushed_commit(
    cb, localcloud, tmp_path
):
    files = {"Dockerfile": DOCKERFILE, "cloudbuild.yaml": "steps: [{name: ubuntu, args: [true]}]"}
    repository, owner = linked(cb, localcloud, files)
    created = cb.create_trigger(trigger(unique("t"), repository), REGION)
    work = tmp_path / "work"
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    url = f"{localcloud.url}/git/{owner}/app.git"
    subprocess.run(["git", "clone", "-q", url, str(work)], check=True)
    (work / "new.txt").write_text("x\n")
    subprocess.run(["git", "-C", str(work), "add", "new.txt"], check=True)
    subprocess.run(["git", *identity, "-C", str(work), "commit", "-qm", "x"], check=True)
    subprocess.run(["git", "-C", str(work), "push", "-q", "origin", "HEAD:main"], check=True)
    pushed = localcloud.git_commits(owner, "app")[0]["sha"]

    parent = f"projects/conneskills-local/locations/{REGION}"
    builds = [
        b
        for b in cb.builds.list_builds(request={"parent": parent})
        if b.build_trigger_id == created.id
    ]
    assert [b.substitutions["COMMIT_SHA"] for b in builds] == [pushed]
