"""Git hosting over the smart-HTTP protocol: `git clone|fetch|push http://<local cloud>/git/OWNER/REPO.git`
is served by `git http-backend` on the bare repositories under the data directory, so clone and push
are real git operations. Anyone may push (no auth), as a local GitHub stand-in.

Control plane (tests, scripts): `POST /_localcloud/git/repositories` `{"owner","name","files","branch"}`
creates a repository; `GET /_localcloud/git/repositories/OWNER/NAME/commits?branch=` lists its commits.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from typing import Any

from fastapi import APIRouter, Request, Response

from localcloud import git_repos
from localcloud.apis import cloud_build
from localcloud.errors import invalid, not_found
from localcloud.state import state_of

router = APIRouter(tags=["git"])
_SERVICES = {"git-upload-pack", "git-receive-pack"}


@router.get("/git/{owner}/{repo}/{rest:path}")
@router.post("/git/{owner}/{repo}/{rest:path}")
async def smart_http(owner: str, repo: str, rest: str, request: Request) -> Response:
    state = state_of(request)
    owner, name = git_repos.check_name(owner, repo)
    if not git_repos.exists(state, owner, name):
        return Response("Repository not found.\n", status_code=404, media_type="text/plain")
    service = request.query_params.get("service") or rest.rsplit("/", 1)[-1]
    if rest not in ("info/refs", "HEAD") and service not in _SERVICES:
        return Response("Not found.\n", status_code=404, media_type="text/plain")
    body = await request.body()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_PROJECT_ROOT": str(git_repos.root(state)),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": f"/{owner}/{name}.git/{rest}",
        "REQUEST_METHOD": request.method,
        "QUERY_STRING": request.url.query,
        "CONTENT_TYPE": request.headers.get("content-type", ""),
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_ADDR": request.client.host if request.client else "127.0.0.1",
        "REMOTE_USER": "localcloud",
        # Pushes need no credentials here.
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.receivepack",
        "GIT_CONFIG_VALUE_0": "true",
    }
    for header, variable in (
        ("content-encoding", "HTTP_CONTENT_ENCODING"),
        ("git-protocol", "HTTP_GIT_PROTOCOL"),
    ):
        if header in request.headers:
            env[variable] = request.headers[header]
    pushing = service == "git-receive-pack" and request.method == "POST"
    before = await asyncio.to_thread(git_repos.branches, state, owner, name) if pushing else {}
    # A thread rather than asyncio's subprocess: http-backend may exit before reading its input
    # (an `info/refs` GET), which subprocess.run tolerates and uvloop's pipes do not.
    process = await asyncio.to_thread(
        subprocess.run,
        ["git", "http-backend"],
        input=body,
        capture_output=True,
        env=env,
        shell=False,
        check=False,
    )
    if process.returncode != 0 and not process.stdout:
        return Response(process.stderr or b"git http-backend failed\n", status_code=500)
    if pushing:
        after = await asyncio.to_thread(git_repos.branches, state, owner, name)
        for branch, commit in after.items():
            if before.get(branch) != commit:
                cloud_build.on_push(state, owner, name, branch, commit)
    return _cgi_response(process.stdout)


def _cgi_response(out: bytes) -> Response:
    head, _, payload = out.partition(b"\r\n\r\n")
    if not _:
        head, _, payload = out.partition(b"\n\n")
    status, headers = 200, {}
    for line in head.decode("latin-1").splitlines():
        key, _, value = line.partition(":")
        if key.lower() == "status":
            status = int(value.strip().split()[0])
        elif key:
            headers[key.strip()] = value.strip()
    headers.pop("Content-Length", None)
    return Response(payload, status_code=status, headers=headers)


@router.post("/_localcloud/git/repositories", status_code=201)
async def create_repository(request: Request) -> dict[str, Any]:
    body = await request.json()
    if not isinstance(body, dict):
        raise invalid("expected {owner, name, files, branch}")
    files = body.get("files") or {}
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise invalid("files must map paths to text")
    state = state_of(request)
    owner, name = git_repos.check_name(str(body.get("owner", "")), str(body.get("name", "")))
    branch = str(body.get("branch") or "main")
    await asyncio.to_thread(git_repos.create, state, owner, name, files, branch)
    return {
        "owner": owner,
        "name": name,
        "branch": branch,
        "clone_url": f"{request.base_url}git/{owner}/{name}.git",
    }


@router.get("/_localcloud/git/repositories/{owner}/{repo}/commits")
async def list_commits(owner: str, repo: str, request: Request) -> dict[str, Any]:
    state = state_of(request)
    if not git_repos.exists(state, owner, repo):
        raise not_found(f"Repository {owner}/{repo} not found.")
    branch = request.query_params.get("branch", "main")
    commits = await asyncio.to_thread(git_repos.log, state, owner, repo, branch)
    return {"commits": commits}
