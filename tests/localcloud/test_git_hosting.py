"""Git hosting on the local cloud: real `git clone` and `git push` over smart HTTP."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from localcloud import git_repos
from localcloud.app import create_app
from localcloud.state import LocalCloudState
from providers.tls import client_context
from tests.localcloud import unique


def git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env_args = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    return subprocess.run(["git", *env_args, *args], cwd=cwd, capture_output=True, text=True)


def test_clone_and_push_are_real_git_operations(localcloud, tmp_path):
    owner = unique("owner")
    localcloud.create_git_repo(owner, "app", {"Dockerfile": "FROM scratch\n", "src/a.txt": "a\n"})
    url = f"{localcloud.url}/git/{owner}/app.git"

    cloned = git("clone", "--depth=1", url, str(tmp_path / "work"))
    assert cloned.returncode == 0, cloned.stderr
    assert (tmp_path / "work" / "src" / "a.txt").read_text() == "a\n"

    (tmp_path / "work" / "b.txt").write_text("b\n")
    git("add", "b.txt", cwd=tmp_path / "work")
    git("commit", "-m", "add b", cwd=tmp_path / "work")
    pushed = git("push", "origin", "HEAD:main", cwd=tmp_path / "work")
    assert pushed.returncode == 0, pushed.stderr

    commits = localcloud.git_commits(owner, "app")
    assert [c["subject"] for c in commits] == ["add b", "Initial commit"]
    again = git("clone", url, str(tmp_path / "again"))
    assert (tmp_path / "again" / "b.txt").read_text() == "b\n", again.stderr


def test_an_unknown_repository_is_not_found(localcloud, tmp_path):
    cloned = git("clone", f"{localcloud.url}/git/nobody/nothing.git", str(tmp_path / "x"))
    assert cloned.returncode != 0
    assert "not found" in cloned.stderr


def test_names_that_escape_the_repository_root_are_refused(localcloud):
    response = httpx.post(
        f"{localcloud.url}/_localcloud/git/repositories",
        json={"owner": "..", "name": "etc", "files": {}},
        verify=client_context(),
    )
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
    escape = httpx.post(
        f"{localcloud.url}/_localcloud/git/repositories",
        json={"owner": unique("o"), "name": "r", "files": {"../../x": "y"}},
        verify=client_context(),
    )
    assert escape.status_code == 400


def test_a_fresh_data_dir_is_seeded_with_the_example_repository(tmp_path):
    create_app(tmp_path / "cloud")
    state = LocalCloudState(tmp_path / "cloud")
    assert git_repos.exists(state, git_repos.EXAMPLE_OWNER, git_repos.EXAMPLE_REPO)
    head = git_repos.head(state, git_repos.EXAMPLE_OWNER, git_repos.EXAMPLE_REPO, "main")
    dockerfile = git_repos.read_file(
        state, git_repos.EXAMPLE_OWNER, git_repos.EXAMPLE_REPO, head, "Dockerfile"
    )
    assert dockerfile.startswith("FROM ")
    # A data dir that already holds repositories is left as it is.
    create_app(tmp_path / "cloud")
    assert len(git_repos.log(state, git_repos.EXAMPLE_OWNER, git_repos.EXAMPLE_REPO, "main")) == 1


def test_a_relative_data_dir_is_seeded_too(tmp_path, monkeypatch):
    """`make run` passes `--data-dir .data/localcloud`: git runs elsewhere and must still find it."""
    monkeypatch.chdir(tmp_path)
    create_app(Path(".data/localcloud"))
    state = LocalCloudState(tmp_path / ".data/localcloud")
    assert git_repos.exists(state, git_repos.EXAMPLE_OWNER, git_repos.EXAMPLE_REPO)
