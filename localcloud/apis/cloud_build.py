"""Cloud Build API v1: build triggers (global and regional paths) and builds. Running a trigger starts
a build (a long-running operation whose metadata carries the build) that is QUEUED, then WORKING, then
SUCCESS or FAILURE after the `build_seconds` config; what it does comes from the real build config in
the repository the trigger's linked (v2) repository points at (see `localcloud.build_runner`)."""

from __future__ import annotations

import copy
import re
import uuid
from typing import Any

from fastapi import APIRouter, Request
from google.cloud.devtools import cloudbuild_v1 as cb1

from localcloud import build_runner, git_repos, naming, operations, paging, protojson
from localcloud.apis import artifact_registry, cloud_build_v2
from localcloud.errors import ApiError, already_exists, invalid, not_found
from localcloud.faults import faults_of
from localcloud.state import LocalCloudState, state_of

API = "cloud_build"
BUILD_TYPE = "type.googleapis.com/google.devtools.cloudbuild.v1.Build"
METADATA_TYPE = "type.googleapis.com/google.devtools.cloudbuild.v1.BuildOperationMetadata"
router = APIRouter(prefix="/v1/projects/{project}", tags=["cloud_build"])

_TRIGGER_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_FINAL = {"SUCCESS", "FAILURE", "INTERNAL_ERROR", "TIMEOUT", "CANCELLED", "EXPIRED"}


def settle(state: LocalCloudState, now: float) -> None:
    doc = state.document(API)
    changed = False
    for record in doc.get("builds", {}).values():
        build = record["build"]
        if build["status"] in _FINAL or now < record["working_at"]:
            continue
        if build["status"] == "QUEUED":
            build.update(status="WORKING", startTime=naming.rfc3339(record["working_at"]))
        if now >= record["done_at"]:
            _finish_build(state, record)
        _update_operation(doc, build)
        changed = True

    def finish(op: dict[str, Any]) -> dict[str, Any] | None:
        record = doc.get("builds", {}).get(op["target"])
        if record is None:
            return None
        if record["build"]["status"] not in _FINAL:
            _finish_build(state, record)
        build = record["build"]
        if build["status"] != "SUCCESS" and op["error"] is None:
            op["error"] = {"code": 2, "message": build.get("statusDetail") or "Build failed"}
        op["metadata"] = {"build": copy.deepcopy(build)}
        return copy.deepcopy(build)

    if operations.settle(doc, now, finish, metadata_is_resource=False) or changed:
        state.save(API)


# Triggers: `/triggers` is the global (or `?parent=`) form, `/locations/L/triggers` the regional one.


@router.post("/triggers")
async def create_trigger_global(project: str, request: Request) -> dict[str, Any]:
    location = _location_of(request.query_params.get("parent"), project)
    return await _create_trigger(project, location, request)


@router.post("/locations/{location}/triggers")
async def create_trigger(project: str, location: str, request: Request) -> dict[str, Any]:
    return await _create_trigger(project, location, request)


@router.get("/triggers")
async def list_triggers_global(project: str, request: Request) -> dict[str, Any]:
    return _list_triggers(
        project, _location_of(request.query_params.get("parent"), project), request
    )


@router.get("/locations/{location}/triggers")
async def list_triggers(project: str, location: str, request: Request) -> dict[str, Any]:
    return _list_triggers(project, location, request)


@router.get("/triggers/{trigger}")
async def get_trigger_global(project: str, trigger: str, request: Request) -> dict[str, Any]:
    location = _location_of(request.query_params.get("name"), project)
    return _get_trigger(project, location, trigger, request)


@router.get("/locations/{location}/triggers/{trigger}")
async def get_trigger(project: str, location: str, trigger: str, request: Request) -> dict:
    return _get_trigger(project, location, trigger, request)


@router.delete("/triggers/{trigger}")
async def delete_trigger_global(project: str, trigger: str, request: Request) -> dict:
    location = _location_of(request.query_params.get("name"), project)
    return _delete_trigger(project, location, trigger, request)


@router.delete("/locations/{location}/triggers/{trigger}")
async def delete_trigger(project: str, location: str, trigger: str, request: Request) -> dict:
    return _delete_trigger(project, location, trigger, request)


@router.post("/triggers/{trigger}")
async def run_trigger_global(project: str, trigger: str, request: Request) -> dict[str, Any]:
    location = _location_of(request.query_params.get("name"), project)
    return await _run_trigger(project, location, trigger, request)


@router.post("/locations/{location}/triggers/{trigger}")
async def run_trigger(project: str, location: str, trigger: str, request: Request) -> dict:
    return await _run_trigger(project, location, trigger, request)


# Builds


@router.get("/builds/{build_id}")
async def get_build_global(project: str, build_id: str, request: Request) -> dict[str, Any]:
    return _get_build(project, build_id, request)


@router.get("/locations/{location}/builds/{build_id}")
async def get_build(project: str, location: str, build_id: str, request: Request) -> dict:
    return _get_build(project, build_id, request)


@router.get("/locations/{location}/builds")
async def list_builds(project: str, location: str, request: Request) -> dict[str, Any]:
    state = state_of(request)
    prefix = f"projects/{project}/locations/{location}/builds/"
    with state.lock:
        builds = [
            copy.deepcopy(r["build"])
            for n, r in state.document(API).get("builds", {}).items()
            if n.startswith(prefix)
        ]
    builds.sort(key=lambda b: b["createTime"], reverse=True)
    items, token = paging.page(builds, *paging.query_params(request), 25, 1000)
    return paging.list_body("builds", [_render_build(b, request) for b in items], token)


@router.post("/builds/{build_id}")
async def cancel_build_global(project: str, build_id: str, request: Request) -> dict[str, Any]:
    return _cancel_build(project, build_id, request)


@router.post("/locations/{location}/builds/{build_id}")
async def cancel_build(project: str, location: str, build_id: str, request: Request) -> dict:
    return _cancel_build(project, build_id, request)


async def _create_trigger(project: str, location: str, request: Request) -> dict[str, Any]:
    trigger = protojson.parse(await protojson.body(request), cb1.BuildTrigger, "trigger")
    name = trigger.get("name", "")
    if not _TRIGGER_NAME.match(name):
        raise invalid(
            f"invalid trigger name {name!r}: use 1-64 letters, digits and dashes, beginning and "
            "ending with a letter or digit"
        )
    for tag in trigger.get("tags", []):
        if not _TAG.match(tag):
            raise invalid(f"invalid trigger tag {tag!r}")
    if not trigger.get("filename") and not trigger.get("build") and not trigger.get("autodetect"):
        raise invalid("trigger must specify a build config filename, an inline build or autodetect")
    state = state_of(request)
    with state.lock:
        _check_event_source(state, trigger, project, location)
        triggers = _triggers(state)
        if any(_in(t, project, location) and t["name"] == name for t in triggers.values()):
            raise already_exists(f"trigger ({project}, {name}) already exists")
        trigger_id = str(uuid.uuid4())
        resource = f"projects/{project}/locations/{location}/triggers/{trigger_id}"
        trigger.update(
            id=trigger_id, resourceName=resource, createTime=naming.rfc3339(naming.now())
        )
        triggers[resource] = trigger
        state.save(API)
        return _render(trigger, cb1.BuildTrigger, request)


def _check_event_source(state: LocalCloudState, trigger: dict, project: str, location: str):
    event = trigger.get("repositoryEventConfig")
    if event is None:
        if not any(
            k in trigger for k in ("github", "triggerTemplate", "pubsubConfig", "webhookConfig")
        ):
            raise invalid("trigger must specify an event source")
        return
    repository = event.get("repository", "")
    if not repository.startswith(f"projects/{project}/locations/{location}/connections/"):
        raise invalid(
            f"repository {repository!r} must be in projects/{project}/locations/{location}"
        )
    if cloud_build_v2.linked_repository(state, repository) is None:
        raise invalid(f"repository {repository!r} not found")
    push = event.get("push") or event.get("pullRequest")
    if not push or not (push.get("branch") or push.get("tag")):
        raise invalid("repository_event_config must specify push or pull_request with a branch")
    try:
        re.compile(push.get("branch") or push.get("tag"))
    except re.error:
        raise invalid(f"invalid branch regex {push.get('branch')!r}") from None


def _list_triggers(project: str, location: str, request: Request) -> dict[str, Any]:
    state = state_of(request)
    with state.lock:
        found = [
            copy.deepcopy(t)
            for _, t in sorted(_triggers(state).items())
            if _in(t, project, location)
        ]
    items, token = paging.page(found, *paging.query_params(request), 50, 1000)
    return paging.list_body(
        "triggers", [_render(t, cb1.BuildTrigger, request) for t in items], token
    )


def _get_trigger(project: str, location: str, trigger: str, request: Request) -> dict:
    state = state_of(request)
    with state.lock:
        return _render(_trigger(state, project, location, trigger), cb1.BuildTrigger, request)


def _delete_trigger(project: str, location: str, trigger: str, request: Request) -> dict:
    state = state_of(request)
    with state.lock:
        found = _trigger(state, project, location, trigger)
        del _triggers(state)[found["resourceName"]]
        state.save(API)
    return {}


async def _run_trigger(project: str, location: str, segment: str, request: Request) -> dict:
    trigger_id, verb = naming.split_verb(segment)
    if verb != "run":
        raise not_found(f"Method not found: POST triggers/{segment}")
    body = await protojson.body(request)
    source = body.get("source", body) if isinstance(body, dict) else {}
    state = state_of(request)
    with state.lock:
        trigger = _trigger(state, project, location, trigger_id)
        event = trigger.get("repositoryEventConfig")
        if not event:
            raise ApiError(
                "FAILED_PRECONDITION", "only triggers on linked repositories can run here"
            )
        linked = cloud_build_v2.linked_repository(state, event["repository"])
        owner_repo = git_repos.from_remote_uri(linked["remoteUri"]) if linked else None
        if owner_repo is None or not git_repos.exists(state, *owner_repo):
            raise ApiError(
                "FAILED_PRECONDITION", f"repository {event['repository']} is not reachable"
            )
        branch = source.get("branchName") or _literal_branch(
            event.get("push", {}).get("branch", "")
        )
        if not branch:
            raise invalid("run_build_trigger needs source.branch_name for a branch pattern")
        commit = source.get("commitSha") or git_repos.head(state, *owner_repo, branch)
        if commit is None:
            raise invalid(f"Couldn't read commit: branch {branch!r} not found")
        error = faults_of(request).take_operation_error(request)
        record = _new_build(state, project, location, trigger, owner_repo, branch, commit, error)
        op = operations.start(
            state.document(API),
            f"projects/{project}/locations/{location}",
            delay=record["done_at"] - naming.now(),
            kind="build",
            target=record["build"]["name"],
            metadata={"build": copy.deepcopy(record["build"])},
            error=error,
        )
        state.save(API)
        return _render_op(op, protojson.wants_int_enums(request))


def on_push(state: LocalCloudState, owner: str, repo: str, branch: str, commit: str) -> list[str]:
    """What GitHub's webhook does for a 2nd-gen trigger: a push to a branch its pattern matches
    starts a build of the pushed commit. Returns the new builds' names."""
    started = []
    with state.lock:
        for trigger in list(_triggers(state).values()):
            event = trigger.get("repositoryEventConfig") or {}
            pattern = (event.get("push") or {}).get("branch")
            linked = cloud_build_v2.linked_repository(state, event.get("repository", ""))
            if not pattern or linked is None or trigger.get("disabled"):
                continue
            if git_repos.from_remote_uri(linked["remoteUri"]) != (owner, repo):
                continue
            if not re.search(pattern, branch):
                continue
            project, location = trigger["resourceName"].split("/")[1:4:2]
            record = _new_build(
                state, project, location, trigger, (owner, repo), branch, commit, None
            )
            started.append(record["build"]["name"])
        if started:
            state.save(API)
    return started


def _new_build(state, project, location, trigger, owner_repo, branch, commit, error) -> dict:
    now = naming.now()
    seconds = float(state.config.get("build_seconds", 2.0))
    build_id = str(uuid.uuid4())
    name = f"projects/{project}/locations/{location}/builds/{build_id}"
    owner, repo = owner_repo
    variables = {
        "PROJECT_ID": project,
        "BUILD_ID": build_id,
        "LOCATION": location,
        "COMMIT_SHA": commit,
        "SHORT_SHA": commit[:7],
        "BRANCH_NAME": branch,
        "REF_NAME": branch,
        "REPO_NAME": repo,
        "REPO_FULL_NAME": f"{owner}/{repo}",
        "TRIGGER_NAME": trigger["name"],
        "TRIGGER_BUILD_CONFIG_PATH": trigger.get("filename", ""),
        **trigger.get("substitutions", {}),
    }
    build = {
        "name": name,
        "id": build_id,
        "projectId": project,
        "status": "QUEUED",
        "createTime": naming.rfc3339(now),
        "buildTriggerId": trigger["id"],
        "substitutions": {k: v for k, v in variables.items() if k != "PROJECT_ID"},
        "tags": [f"trigger-{trigger['id']}", *trigger.get("tags", [])],
        "logUrl": f"https://console.cloud.google.com/cloud-build/builds;region={location}/{build_id}?project={project}",
    }
    record = {
        "build": build,
        "repo": list(owner_repo),
        "config_path": trigger.get("filename", ""),
        "variables": variables,
        "working_at": now + seconds / 3,
        "done_at": now + seconds,
        "injected_error": error,
    }
    _builds(state)[name] = record
    return record


def _finish_build(state: LocalCloudState, record: dict[str, Any]) -> None:
    build = record["build"]
    done_at = record["done_at"]
    build.setdefault("startTime", naming.rfc3339(record["working_at"]))
    build["finishTime"] = naming.rfc3339(done_at)
    if record.get("injected_error"):
        build.update(status="FAILURE", statusDetail=record["injected_error"]["message"])
        return
    owner, repo = record["repo"]
    commit = record["variables"]["COMMIT_SHA"]

    def read(path: str) -> str | None:
        return git_repos.read_file(state, owner, repo, commit, path)

    def push(ref: str, digest: str) -> str | None:
        return artifact_registry.push_image(state, ref, digest, done_at)

    try:
        config = build_runner.parse_config(read(record["config_path"]), record["config_path"])
    except build_runner.BuildConfigError as exc:
        build.update(status="FAILURE", statusDetail=str(exc))
        return
    outcome = build_runner.run(config, record["variables"], read, push)
    build["steps"] = outcome.steps
    build["images"] = [
        str(i) for i in build_runner.substitute(config.get("images") or [], record["variables"])
    ]
    build["results"] = {"images": [{"name": ref} for ref in outcome.pushed]}
    build["status"] = outcome.status
    if outcome.detail:
        build["statusDetail"] = outcome.detail


def _update_operation(doc: dict[str, Any], build: dict[str, Any]) -> None:
    for op in operations.pending_for(doc, build["name"]):
        op["metadata"] = {"build": copy.deepcopy(build)}


def _get_build(project: str, build_id: str, request: Request) -> dict[str, Any]:
    state = state_of(request)
    with state.lock:
        return _render_build(_build(state, project, build_id)["build"], request)


def _cancel_build(project: str, segment: str, request: Request) -> dict[str, Any]:
    build_id, verb = naming.split_verb(segment)
    if verb != "cancel":
        raise not_found(f"Method not found: POST builds/{segment}")
    state = state_of(request)
    with state.lock:
        record = _build(state, project, build_id)
        build = record["build"]
        if build["status"] not in _FINAL:
            now = naming.now()
            build.update(status="CANCELLED", finishTime=naming.rfc3339(now))
            doc = state.document(API)
            for op in operations.pending_for(doc, build["name"]):
                op.update(
                    done=True, done_at=now, error={"code": 1, "message": "Build was cancelled"}
                )
                op["metadata"] = {"build": copy.deepcopy(build)}
            state.save(API)
        return _render_build(build, request)


def _literal_branch(pattern: str) -> str | None:
    literal = pattern.removeprefix("^").removesuffix("$")
    return literal if literal and re.fullmatch(r"[\w./-]+", literal) else None


def _location_of(resource: str | None, project: str) -> str:
    match = re.match(rf"^projects/{re.escape(project)}/locations/([^/]+)", resource or "")
    return match.group(1) if match else "global"


def _in(trigger: dict[str, Any], project: str, location: str) -> bool:
    return trigger["resourceName"].startswith(f"projects/{project}/locations/{location}/triggers/")


def _triggers(state: LocalCloudState) -> dict[str, dict[str, Any]]:
    return state.document(API).setdefault("triggers", {})


def _builds(state: LocalCloudState) -> dict[str, dict[str, Any]]:
    return state.document(API).setdefault("builds", {})


def _trigger(state: LocalCloudState, project: str, location: str, key: str) -> dict[str, Any]:
    # Like the real API, a trigger is found by its id or by its name.
    for trigger in _triggers(state).values():
        if _in(trigger, project, location) and key in (trigger["id"], trigger["name"]):
            return trigger
    raise not_found(f"trigger ({project}, {key}) not found")


def _build(state: LocalCloudState, project: str, build_id: str) -> dict[str, Any]:
    for name, record in _builds(state).items():
        if name.startswith(f"projects/{project}/") and record["build"]["id"] == build_id:
            return record
    raise not_found(f"build ({project}, {build_id}) not found")


def _render(resource: dict[str, Any], cls: Any, request: Request) -> dict[str, Any]:
    return protojson.render(resource, cls, protojson.wants_int_enums(request))


def _render_build(build: dict[str, Any], request: Request) -> dict[str, Any]:
    return _render(build, cb1.Build, request)


def _render_op(op: dict[str, Any], int_enums: bool) -> dict[str, Any]:
    return operations.render(
        op, BUILD_TYPE, cb1.Build, int_enums, metadata=(METADATA_TYPE, cb1.BuildOperationMetadata)
    )


operations.register(API, _render_op)
