"""The git provider against the local cloud's git hosting: which of git's failures a retry can
change, and what its errors show."""

from __future__ import annotations

import pytest

from providers import git
from tests.helpers.image_builds import DOCKERFILE, new_repo


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
