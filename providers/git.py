"""Git over HTTPS through the `git` binary, always as an argument list (no shell): shallow clones into a
working directory, reading a file, committing and pushing one file, and reverting a job's own commit.
A token travels as an `http.extraHeader` in the environment, never in a URL or an argument, so it
appears in no process listing, error or log."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

AUTHOR_NAME = "ConneSkills Platform"
AUTHOR_EMAIL = "platform@conneskills.com"
TIMEOUT_SECONDS = 300
# How far back a job's own commit is looked for (a shallow clone is deepened up to it).
MAX_DEPTH = 200
# Git's answers that a retry can change: the network or the remote failed for now, or someone
# pushed first. Every other failure (a missing repository or ref, refused credentials, a broken
# config, a path git will not take) is final: retrying it only holds the job, and its undo, for the
# whole retry window.
_TRANSIENT = re.compile(
    r"could not resolve host|failed to connect|couldn't connect|connection (refused|reset|timed "
    r"out)|timed out|the remote end hung up|early eof|rpc failed|unexpected disconnect|"
    r"returned error: (5\d\d|408|429)|\b(ssl|gnutls|tls)\b|recv failure|send failure|"
    r"empty reply|fetch first|non-fast-forward|cannot lock ref|index\.lock",
    re.IGNORECASE,
)
# Git's own directory inside a working copy: a file there is git's configuration or hooks, never a
# file of the repository, so the platform neither reads nor writes it.
GIT_DIR = ".git"


class GitError(Exception):
    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def workdirs() -> Path:
    """Where the jobs' working copies live (never named in an error: it is the worker's own disk)."""
    return Path(tempfile.gettempdir()) / "conneskills-image-builds"


def workdir(job_id: str) -> Path:
    """The job's working copy: one per job, removed when the job ends."""
    return workdirs() / job_id


def in_git_dir(path: str) -> bool:
    """Whether `path` names git's own directory or something inside it (any letter case: a
    case-insensitive file system takes `.GIT` for `.git`)."""
    return any(segment.casefold() == GIT_DIR for segment in path.split("/"))


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def clone(url: str, dest: Path, branch: str, token: str | None = None) -> str:
    """A fresh shallow clone of `branch` at `dest`, replacing whatever is there; returns HEAD. Never
    reusing a working copy means nothing an earlier attempt left in it (a half-made commit, a broken
    config) can fail the next attempt, or an undo, again and again."""
    remove(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    _git(
        [
            "clone",
            "--quiet",
            "--depth=1",
            "--single-branch",
            "--branch",
            branch,
            "--",
            url,
            str(dest),
        ],
        dest.parent,
        token,
    )
    return head(dest)


def head(dest: Path) -> str:
    return _git(["rev-parse", "HEAD"], dest).strip()


def inside(dest: Path, path: str) -> Path:
    """`dest/path`, refusing a path that leaves the working copy (a symlink in the repository could
    otherwise make the worker read or overwrite its own files) or lies in git's own directory."""
    if in_git_dir(path):
        raise GitError(f"{path} is inside git's own {GIT_DIR} directory", retryable=False)
    target = dest / path
    resolved = target.resolve()
    if dest.resolve() not in resolved.parents:
        raise GitError(f"{path} leaves the repository (a symbolic link?)", retryable=False)
    return target


def read(dest: Path, path: str) -> str | None:
    target = inside(dest, path)
    return target.read_text() if target.is_file() else None


def commit_file(
    dest: Path, path: str, content: str, message: str, branch: str, token: str | None = None
) -> str:
    """Writes, commits and pushes one file; returns the new commit. A rejected push (someone pushed
    first) is retryable: the caller clones again and repeats."""
    target = inside(dest, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)
    _git(["add", "--", path], dest)
    _git(["commit", "--quiet", "-m", message], dest)
    _git(["push", "--quiet", "origin", f"HEAD:refs/heads/{branch}"], dest, token)
    return head(dest)


def find_commit(
    dest: Path, trailer: str, max_depth: int = MAX_DEPTH, token: str | None = None
) -> str | None:
    """The newest commit on the checked-out branch whose message carries `trailer`, deepening the
    shallow clone as needed (up to `max_depth` commits)."""
    depth = 1
    while True:
        found = _git(["log", "--format=%H", "-F", f"--grep={trailer}"], dest).split()
        if found:
            return found[0]
        if depth >= max_depth or not (dest / ".git" / "shallow").exists():
            return None
        depth = min(max_depth, depth * 4)
        _git(["fetch", "--quiet", f"--deepen={depth}", "origin"], dest, token)


def revert(dest: Path, commit: str, message: str, branch: str, token: str | None = None) -> bool:
    """Pushes a commit undoing `commit`; False (nothing pushed) when later commits changed the same
    lines, so undoing it would overwrite someone else's work."""
    _git(["fetch", "--quiet", "--deepen=1", "origin"], dest, token)
    try:
        _git(["revert", "--no-edit", "--no-commit", commit], dest)
    except GitError:
        _git(["revert", "--abort"], dest, check=False)
        return False
    _git(["commit", "--quiet", "--allow-empty", "-m", message], dest)
    _git(["push", "--quiet", "origin", f"HEAD:refs/heads/{branch}"], dest, token)
    return True


def message_mentions(dest: Path, text: str) -> bool:
    return bool(_git(["log", "--format=%H", "-F", f"--grep={text}"], dest).strip())


def _git(args: list[str], cwd: Path, token: str | None = None, check: bool = True) -> str:
    env = {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": AUTHOR_NAME,
        "GIT_AUTHOR_EMAIL": AUTHOR_EMAIL,
        "GIT_COMMITTER_NAME": AUTHOR_NAME,
        "GIT_COMMITTER_EMAIL": AUTHOR_EMAIL,
    }
    if token:
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        env.update(
            GIT_CONFIG_COUNT="1",
            GIT_CONFIG_KEY_0="http.extraHeader",
            GIT_CONFIG_VALUE_0=f"Authorization: Basic {basic}",
        )
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            shell=False,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise GitError(
            f"git {args[0]} timed out after {TIMEOUT_SECONDS}s", retryable=True
        ) from None
    if check and result.returncode != 0:
        output = _scrub(result.stderr.strip() or result.stdout.strip(), token)
        raise GitError(
            f"git {args[0]} failed: {_what_failed(output)}",
            retryable=bool(_TRANSIENT.search(output)),
        )
    return result.stdout


def _what_failed(output: str) -> str:
    """Git's `fatal:`/`error:` lines and rejected refs when it wrote any (its progress lines and
    hints say nothing useful)."""
    lines = [
        line.strip()
        for line in output.splitlines()
        if line.startswith(("fatal:", "error:")) or line.lstrip().startswith("! [")
    ]
    return "\n".join(lines) or output


def _scrub(text: str, token: str | None) -> str:
    text = re.sub(r"(https?://)[^/@\s]+@", r"\1", text)
    # The worker's own paths say nothing to the caller: the working copy is named as such.
    root = re.escape(str(workdirs()))
    text = re.sub(rf"{root}(?:/[^/\s'\"]+)?", "<working copy>", text)
    return text.replace(token, "***") if token else text


def clone_default_branch(url: str, dest: Path) -> str:
    """A fresh depth-1 clone of the repository's default branch at `dest` (replacing whatever is
    there); returns HEAD. Symbolic links are checked out as plain files and only http(s) is spoken,
    so a repository cannot point the working copy, or git, outside it."""
    remove(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    _git(
        [
            "-c",
            "core.symlinks=false",
            "-c",
            "protocol.allow=never",
            "-c",
            "protocol.https.allow=always",
            "-c",
            "protocol.http.allow=always",
            "clone",
            "--quiet",
            "--depth=1",
            "--single-branch",
            "--no-tags",
            "--",
            url,
            str(dest),
        ],
        dest.parent,
    )
    return head(dest)
