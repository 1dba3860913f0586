"""GitHub REST for self-hosted runners, as githubkit and PyGithub call it (WIRE_APIS §7), under
`/github` (the platform's `github_api_url`): repo and org lookups, registration and remove tokens,
generate-jitconfig, list/get/delete runners, runner groups; token auth, rate-limit headers and the
documented 404/409/422 bodies.

A runner registered by a JIT config is `offline` until a container started with that config comes
up (the Docker emulator calls `runner_online`); an ephemeral runner that finishes its job removes
itself (`runner_exited`), as the real runner does on a clean exit.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from localcloud.state import LocalCloudState, state_of

API = "github"
DOCS = "https://docs.github.com/rest/actions/self-hosted-runners"
# Orgs that exist from the start; repos are created with POST /orgs/{org}/repos or /user/repos.
SEEDED_ORGS = ("conneskills", "acme", "octo-org")
SEEDED_REPOS = ("conneskills/platform", "conneskills/example")
DEFAULT_LABELS = ("self-hosted", "Linux", "X64")
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
RATE_LIMIT = 5000

router = APIRouter(prefix="/github", tags=["github"])


def _error(status: int, message: str, errors: list[str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"message": message, "documentation_url": DOCS, "status": str(status)}
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status)


class GitHubError(Exception):
    def __init__(self, status: int, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.response = _error(status, message, errors)


def _doc(state: LocalCloudState) -> dict[str, Any]:
    doc = state.document(API)
    if "repos" not in doc:
        doc.update(
            orgs={org: {"id": i + 1} for i, org in enumerate(SEEDED_ORGS)},
            repos={repo: {"id": 1000 + i} for i, repo in enumerate(SEEDED_REPOS)},
            runners={},
            next_id=1,
        )
    return doc


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/github"


def _rate_headers(state: LocalCloudState) -> dict[str, str]:
    with state.lock:
        doc = _doc(state)
        window = int(time.time() // 3600)
        if doc.get("rate_window") != window:
            doc["rate_window"], doc["rate_used"] = window, 0
        doc["rate_used"] = doc.get("rate_used", 0) + 1
        used = doc["rate_used"]
    return {
        "X-RateLimit-Limit": str(RATE_LIMIT),
        "X-RateLimit-Remaining": str(max(RATE_LIMIT - used, 0)),
        "X-RateLimit-Used": str(used),
        "X-RateLimit-Reset": str((window + 1) * 3600),
        "X-RateLimit-Resource": "core",
    }


def _authorized(request: Request) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return scheme.lower() in ("token", "bearer") and bool(token.strip())


async def _serve(request: Request, handler, *args: Any) -> Response:
    state = state_of(request)
    if not _authorized(request):
        return _error(401, "Requires authentication")
    headers = _rate_headers(state)
    try:
        with state.lock:
            status, body = handler(state, request, *args, await _body(request))
            state.save(API)
    except GitHubError as error:
        error.response.headers.update(headers)
        return error.response
    if body is None:
        return Response(status_code=status, headers=headers)
    return JSONResponse(body, status_code=status, headers=headers)


async def _body(request: Request) -> Any:
    if request.method not in ("POST", "PUT", "PATCH"):
        return None
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise GitHubError(400, "Problems parsing JSON") from None


def _scope_key(kind: str, name: str) -> str:
    return f"{kind}/{name}"


def _require_scope(state: LocalCloudState, kind: str, name: str) -> str:
    doc = _doc(state)
    known = doc["orgs"] if kind == "orgs" else doc["repos"]
    if name not in known:
        raise GitHubError(404, "Not Found")
    return _scope_key(kind, name)


def _runners(state: LocalCloudState, scope: str) -> dict[str, dict[str, Any]]:
    return _doc(state)["runners"].setdefault(scope, {})


def _token(kind: str) -> dict[str, Any]:
    expires = datetime.now(UTC) + timedelta(hours=1)
    return {
        "token": f"{kind}_{secrets.token_hex(16)}",
        "expires_at": expires.isoformat(timespec="seconds").replace("+00:00", "Z"),
    }


# --- handlers: (state, request, *path, body) -> (status, body) --------------------------------


def _get_org(state, request, org, _body):
    doc = _doc(state)
    if org not in doc["orgs"]:
        raise GitHubError(404, "Not Found")
    base = _base(request)
    return 200, {
        "login": org,
        "id": doc["orgs"][org]["id"],
        "url": f"{base}/orgs/{org}",
        "repos_url": f"{base}/orgs/{org}/repos",
        "type": "Organization",
    }


def _repo_body(request, full_name: str, repo: dict[str, Any]) -> dict[str, Any]:
    owner, name = full_name.split("/", 1)
    base = _base(request)
    return {
        "id": repo["id"],
        "name": name,
        "full_name": full_name,
        "private": repo.get("private", False),
        "owner": {"login": owner, "url": f"{base}/users/{owner}", "type": "Organization"},
        "url": f"{base}/repos/{full_name}",
        "default_branch": "main",
    }


def _get_repo(state, request, owner, repo, _body):
    full = f"{owner}/{repo}"
    repos = _doc(state)["repos"]
    if full not in repos:
        raise GitHubError(404, "Not Found")
    return 200, _repo_body(request, full, repos[full])


def _create_repo(state, request, owner, body):
    doc = _doc(state)
    if owner not in doc["orgs"]:
        raise GitHubError(404, "Not Found")
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not _NAME.match(name):
        raise GitHubError(422, "Validation Failed", ["name is invalid"])
    full = f"{owner}/{name}"
    if full in doc["repos"]:
        raise GitHubError(
            422, "Repository creation failed.", ["name already exists on this account"]
        )
    doc["repos"][full] = {"id": 1000 + len(doc["repos"]), "private": bool(body.get("private"))}
    return 201, _repo_body(request, full, doc["repos"][full])


def _labels(names: list[str]) -> list[dict[str, Any]]:
    labels = [{"id": i + 1, "name": n, "type": "read-only"} for i, n in enumerate(DEFAULT_LABELS)]
    for name in names:
        if name not in DEFAULT_LABELS:
            labels.append({"id": len(labels) + 1, "name": name, "type": "custom"})
    return labels


def _jitconfig(state, request, kind, name, body):
    scope = _require_scope(state, kind, name)
    if not isinstance(body, dict):
        raise GitHubError(422, "Invalid request.", ["body must be an object"])
    runner_name, group, labels = body.get("name"), body.get("runner_group_id"), body.get("labels")
    problems = []
    if not isinstance(runner_name, str) or not runner_name:
        problems.append("name is required")
    if not isinstance(group, int) or isinstance(group, bool):
        problems.append("runner_group_id is required")
    elif kind == "repos" and group != 1 or kind == "orgs" and group not in _groups(name):
        raise GitHubError(404, "Not Found")
    if (
        not isinstance(labels, list)
        or not 1 <= len(labels) <= 100
        or not all(isinstance(label, str) and label for label in labels)
    ):
        problems.append("labels must have 1 to 100 non-empty strings")
    if problems:
        raise GitHubError(422, "Invalid request.", problems)
    runners = _runners(state, scope)
    if any(r["name"] == runner_name for r in runners.values()):
        raise GitHubError(
            409, f"Already exists - A runner with the name {runner_name} already exists."
        )
    doc = _doc(state)
    runner_id = doc["next_id"]
    doc["next_id"] += 1
    runner = {
        "id": runner_id,
        "name": runner_name,
        "os": "Linux",
        "status": "offline",
        "busy": False,
        "runner_group_id": group,
        "ephemeral": True,
        "labels": _labels(labels),
    }
    runners[str(runner_id)] = runner
    config = {
        "scope": scope,
        "runner_id": runner_id,
        "name": runner_name,
        "nonce": secrets.token_hex(8),
    }
    encoded = base64.b64encode(json.dumps(config).encode()).decode()
    return 201, {"runner": runner, "encoded_jit_config": encoded}


def _groups(org: str) -> dict[int, str]:
    return {1: "Default"}


def _list_groups(state, request, org, _body):
    _require_scope(state, "orgs", org)
    base = _base(request)
    groups = [
        {
            "id": gid,
            "name": name,
            "visibility": "all",
            "default": gid == 1,
            "runners_url": f"{base}/orgs/{org}/actions/runner-groups/{gid}/runners",
            "inherited": False,
            "allows_public_repositories": False,
            "restricted_to_workflows": False,
            "selected_workflows": [],
            "workflow_restrictions_read_only": False,
        }
        for gid, name in _groups(org).items()
    ]
    return 200, {"total_count": len(groups), "runner_groups": groups}


def _list_runners(state, request, kind, name, _body):
    scope = _require_scope(state, kind, name)
    runners = list(_runners(state, scope).values())
    wanted = request.query_params.get("name")
    if wanted:
        runners = [r for r in runners if r["name"] == wanted]
    try:
        per_page = min(max(int(request.query_params.get("per_page", 30)), 1), 100)
        page = max(int(request.query_params.get("page", 1)), 1)
    except ValueError:
        raise GitHubError(422, "Invalid request.", ["per_page and page must be integers"]) from None
    shown = runners[(page - 1) * per_page : page * per_page]
    return 200, {"total_count": len(runners), "runners": shown}


def _get_runner(state, request, kind, name, runner_id, _body):
    scope = _require_scope(state, kind, name)
    runner = _runners(state, scope).get(runner_id)
    if runner is None:
        raise GitHubError(404, "Not Found")
    return 200, runner


def _delete_runner(state, request, kind, name, runner_id, _body):
    scope = _require_scope(state, kind, name)
    runners = _runners(state, scope)
    runner = runners.get(runner_id)
    if runner is None:
        raise GitHubError(404, "Not Found")
    if runner["busy"]:
        raise GitHubError(
            422,
            f'Bad request - Runner "{runner["name"]}" is still running a job"',
            [f"Runner {runner['name']} is still running a job"],
        )
    del runners[runner_id]
    return 204, None


def _token_for(kind_of_token: str):
    def handler(state, request, kind, name, _body):
        _require_scope(state, kind, name)
        return 201, _token(kind_of_token)

    return handler


# --- routes --------------------------------------------------------------------------------------


@router.get("/orgs/{org}")
async def get_org(request: Request, org: str) -> Response:
    return await _serve(request, _get_org, org)


@router.get("/repos/{owner}/{repo}")
async def get_repo(request: Request, owner: str, repo: str) -> Response:
    return await _serve(request, _get_repo, owner, repo)


@router.post("/orgs/{org}/repos")
async def create_org_repo(request: Request, org: str) -> Response:
    return await _serve(request, _create_repo, org)


@router.get("/orgs/{org}/actions/runner-groups")
async def list_runner_groups(request: Request, org: str) -> Response:
    return await _serve(request, _list_groups, org)


def _scoped(path: str) -> list[tuple[str, str]]:
    return [(f"/repos/{{owner}}/{{repo}}{path}", "repos"), (f"/orgs/{{org}}{path}", "orgs")]


def _scope_args(kind: str, params: dict[str, str]) -> tuple[str, str]:
    if kind == "repos":
        return kind, f"{params['owner']}/{params['repo']}"
    return kind, params["org"]


def _add(method: str, path: str, handler) -> None:
    for full, kind in _scoped(path):

        async def endpoint(request: Request, _kind: str = kind) -> Response:
            params = dict(request.path_params)
            runner_id = params.pop("runner_id", None)
            args = _scope_args(_kind, params)
            if runner_id is not None:
                args = (*args, runner_id)
            return await _serve(request, handler, *args)

        router.add_api_route(full, endpoint, methods=[method], include_in_schema=False)


_add("POST", "/actions/runners/registration-token", _token_for("AREG"))
_add("POST", "/actions/runners/remove-token", _token_for("AREM"))
_add("POST", "/actions/runners/generate-jitconfig", _jitconfig)
_add("GET", "/actions/runners", _list_runners)
_add("GET", "/actions/runners/{runner_id}", _get_runner)
_add("DELETE", "/actions/runners/{runner_id}", _delete_runner)


# --- what the Docker emulator tells us about runner containers -----------------------------------


def decode_jitconfig(encoded: str) -> dict[str, Any] | None:
    try:
        config = json.loads(base64.b64decode(encoded))
    except ValueError:
        return None
    return config if isinstance(config, dict) and "runner_id" in config else None


def runner_online(state: LocalCloudState, config: dict[str, Any]) -> bool:
    """A runner process came up with this JIT config: online, and (one job) busy at once. A config
    whose runner is gone (deleted, or already used) is refused, as GitHub refuses a stale one."""
    with state.lock:
        runner = _runners(state, config["scope"]).get(str(config["runner_id"]))
        if runner is None or runner.get("used"):
            return False
        runner.update(status="online", busy=True, used=True)
        state.save(API)
        return True


def runner_exited(state: LocalCloudState, config: dict[str, Any], *, clean: bool) -> None:
    """A clean exit after the job: the ephemeral runner deregistered itself. Killed: it stays
    registered, offline, until someone removes it."""
    with state.lock:
        runners = _runners(state, config["scope"])
        key = str(config["runner_id"])
        if key in runners:
            if clean:
                del runners[key]
            else:
                runners[key].update(status="offline", busy=False)
        state.save(API)
