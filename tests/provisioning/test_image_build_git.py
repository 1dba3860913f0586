"""The git provider against the local cloud's git hosting: which of git's failures a retry can
change, what its errors show, and the image build's working copies (one per attempt)."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from temporalio.testing import ActivityEnvironment

from activities.provisioning.image_builds import ImageBuildActivities
from contracts.provisioning.image_builds import ImageBuildPlan
from providers import git
from tests.helpers.image_builds import DOCKERFILE, image_name, new_repo


def remote(localcloud, owner: str, name: str) -> str:
    return f"{localcloud.url}/git/{owner}/{name}.git"


def test_a_missing_branch_or_repository_is_final_and_names_no_worker_path(localcloud):
    owner, name = new_repo(localcloud, {"docker/Dockerfile": DOCKERFILE})
    dest = git.workdir(f"test-{owner}")
    try:
        for url, branch in (
            (remote(localcloud, owner, name), "nope"),
            (f"{localcloud.url}/git/{owner}/gone.git", "main"),
        ):
            with pytest.raises(git.GitError) as raised:
                git.clone(url, dest, branch)
            assert raised.value.retryable is False, str(raised.value)
            assert str(git.workdirs()) not in str(raised.value)
    finally:
        git.remove(dest)


def test_a_broken_working_copy_is_replaced_by_the_next_clone(localcloud):
    owner, name = new_repo(localcloud, {"docker/Dockerfile": DOCKERFILE})
    dest = git.workdir(f"test-{owner}")
    try:
        git.clone(remote(localcloud, owner, name), dest, "main")
        (dest / ".git" / "config").write_text("[broken\n")
        git.clone(remote(localcloud, owner, name), dest, "main")
        assert git.read(dest, "docker/Dockerfile") == DOCKERFILE
    finally:
        git.remove(dest)


@pytest.mark.parametrize("path", [".git/config", ".git/hooks/post-checkout", "a/.Git/x"])
def test_git_s_own_directory_is_never_read_or_written(localcloud, path):
    owner, name = new_repo(localcloud, {"docker/Dockerfile": DOCKERFILE})
    dest = git.workdir(f"test-{owner}")
    try:
        git.clone(remote(localcloud, owner, name), dest, "main")
        with pytest.raises(git.GitError) as raised:
            git.commit_file(dest, path, "steps: []\n", "m", "main")
        assert raised.value.retryable is False
        with pytest.raises(git.GitError):
            git.read(dest, path)
        assert len(localcloud.git_commits(owner, name)) == 1
    finally:
        git.remove(dest)


def test_an_outage_of_the_remote_is_retryable(clean_faults):
    owner, name = new_repo(clean_faults, {"docker/Dockerfile": DOCKERFILE})
    outage = clean_faults.inject_fault(fail_next=5, code=503, path_contains=f"/git/{owner}/")
    dest = git.workdir(f"test-{owner}")
    try:
        with pytest.raises(git.GitError) as raised:
            git.clone(remote(clean_faults, owner, name), dest, "main")
        assert raised.value.retryable is True, str(raised.value)
        assert clean_faults.fired(outage) >= 1
    finally:
        git.remove(dest)


async def test_an_abandoned_attempt_still_cloning_does_not_break_its_retry(settings, localcloud):
    """The server gives an attempt up (a heartbeat lost on a loaded worker) while its clone still
    runs in a thread; the retry, on the same worker, clones at the same time. Both must see the
    repository, and neither may leave its copy behind."""
    owner, name = new_repo(localcloud, {"docker/Dockerfile": DOCKERFILE})
    plan = ImageBuildPlan(
        image_name=image_name(),
        github_repo=f"{owner}/{name}",
        dockerfile_path="docker/Dockerfile",
        cloudbuild_path="ci/cloudbuild.yaml",
        region=settings.gcp_region,
    )
    steps = ImageBuildActivities(settings)
    job_id = f"setup-image-build-test-{owner}"

    def attempt(number: int) -> ActivityEnvironment:
        env = ActivityEnvironment()
        env.info = dataclasses.replace(
            env.info, workflow_id=job_id, activity_id="1", attempt=number
        )
        return env

    try:
        for _ in range(3):
            results = await asyncio.gather(
                *(attempt(n).run(steps.checkout, plan) for n in (1, 2, 3, 4))
            )
            assert len({result.commit_sha for result in results}) == 1
            assert not any(git.workdir(job_id).iterdir())
    finally:
        git.remove(git.workdir(job_id))
