"""Bare git repositories under the local cloud's data directory: where they live, creating one with
files, and reading a file at a branch. Every git call is an argument list (no shell)."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from localcloud.errors import invalid, not_found

# GitHub's rules for owner and repository names (letters, digits, `-`, `_`, `.`; no `..`).
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_AUTHOR = {
    "GIT_AUTHOR_NAME": "ConneSkills local cloud",
    "GIT_AUTHOR_EMAIL": "localcloud@conneskills.invalid",
    "GIT_COMMITTER_NAME": "ConneSkills local cloud",
    "GIT_COMMITTER_EMAIL": "localcloud@conneskills.invalid",
}
# The repository `make run` serves on a fresh data directory, so the README's example works.
EXAMPLE_OWNER, EXAMPLE_REPO = "conneskills", "hello-image"
EXAMPLE_FILES = {
    "Dockerfile": 'FROM python:3.12-slim\nCOPY app.py /app/app.py\nCMD ["python", "/app/app.py"]\n',
    "app.py": 'print("hello from an image built by ConneSkills")\n',
    "README.md": "# hello-image\n\nThe local cloud's example repository for image builds.\n",
}


def root(state: Any) -> Path:
    """Where bare repositories live: `<data dir>/git`, or a temporary directory in memory mode."""
    existing = getattr(state, "git_root", None)
    if existing is None:
        if state.data_dir is not None:
            existing = state.data_dir / "git"
        else:
            existing = Path(tempfile.mkdtemp(prefix="localcloud-git-"))
        existing.mkdir(parents=True, exist_ok=True)
        state.git_root = existing
    return existing


def check_name(owner: str, repo: str) -> tuple[str, str]:
    repo = repo.removesuffix(".git")
    for part in (owner, repo):
        if not _NAME.match(part) or ".." in part:
            raise invalid(f"Invalid repository name {owner}/{repo}.")
    return owner, repo


def bare_path(state: Any, owner: str, repo: str) -> Path:
    owner, repo = check_name(owner, repo)
    return root(state) / owner / f"{repo}.git"


def run_git(*args: str, cwd: Path | None = None, stdin: bytes | None = None, env=None) -> bytes:
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        env={**os.environ, **_AUTHOR, **(env or {})},
        shell=False,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"git {args[0]} failed: {result.stderr.decode(errors='replace')}")
    return result.stdout


def create(state: Any, owner: str, repo: str, files: dict[str, str], branch: str = "main") -> Path:
    """A new bare repository whose `branch` holds `files` in one commit (no files: empty)."""
    path = bare_path(state, owner, repo)
    if path.exists():
        raise invalid(f"Repository {owner}/{repo} already exists.")
    path.parent.mkdir(parents=True, exist_ok=True)
    run_git("init", "--bare", "--quiet", f"--initial-branch={branch}", str(path))
    if not files:
        return path
    with tempfile.TemporaryDirectory(prefix="localcloud-seed-") as work:
        tree = Path(work)
        run_git("init", "--quiet", f"--initial-branch={branch}", cwd=tree)
        for name, content in files.items():
            target = (tree / name).resolve()
            if tree.resolve() not in target.parents:
                raise invalid(f"Invalid file path {name!r}.")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
        run_git("add", "--all", cwd=tree)
        run_git("commit", "--quiet", "-m", "Initial commit", cwd=tree)
        run_git("push", "--quiet", str(path), f"HEAD:refs/heads/{branch}", cwd=tree)
    return path


def exists(state: Any, owner: str, repo: str) -> bool:
    return bare_path(state, owner, repo).is_dir()


def any_repository(state: Any) -> bool:
    return any(root(state).glob("*/*.git"))


def seed_example(state: Any) -> None:
    """Serve the example repository when the data directory holds none yet."""
    if not any_repository(state):
        create(state, EXAMPLE_OWNER, EXAMPLE_REPO, EXAMPLE_FILES)


def head(state: Any, owner: str, repo: str, branch: str) -> str | None:
    """The commit `branch` points at, or None when the branch does not exist."""
    path = bare_path(state, owner, repo)
    if not path.is_dir():
        raise not_found(f"Repository {owner}/{repo} not found.")
    try:
        return (
            run_git("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}", cwd=path)
            .decode()
            .strip()
        )
    except RuntimeError:
        return None


def branches(state: Any, owner: str, repo: str) -> dict[str, str]:
    """Every branch and the commit it points at."""
    raw = run_git(
        "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads",
        cwd=bare_path(state, owner, repo),
    ).decode()  # fmt: skip
    return dict(line.split(" ", 1) for line in raw.splitlines() if line)


def read_file(state: Any, owner: str, repo: str, commit: str, path_in_repo: str) -> str | None:
    """A file's text at a commit, or None when the commit has no such file."""
    try:
        return run_git(
            "show", f"{commit}:{path_in_repo}", cwd=bare_path(state, owner, repo)
        ).decode()
    except RuntimeError:
        return None


def log(state: Any, owner: str, repo: str, branch: str) -> list[dict[str, str]]:
    """The branch's commits, newest first: sha, subject, body."""
    raw = run_git(
        "log",
        "--format=%H%x1f%s%x1f%b%x1e",
        f"refs/heads/{branch}",
        cwd=bare_path(state, owner, repo),
    ).decode()
    commits = []
    for record in raw.split("\x1e"):
        if record.strip():
            sha, subject, body = record.strip("\n").split("\x1f")
            commits.append({"sha": sha, "subject": subject, "body": body})
    return commits


def from_remote_uri(uri: str) -> tuple[str, str] | None:
    """`https://host/.../owner/repo.git` → (owner, repo): how a linked repository maps to one here."""
    match = re.match(r"^https?://[^/]+(?:/[^?#]*)?/([^/]+)/([^/]+?)(?:\.git)?/?$", uri)
    return (match.group(1), match.group(2)) if match else None
