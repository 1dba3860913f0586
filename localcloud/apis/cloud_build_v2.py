"""Cloud Build API v2: host connections and the repositories linked through them (both created and
deleted through long-running operations). A linked repository's `remoteUri` names a repository the
Cloud Build v1 emulator can read: `…/OWNER/REPO.git` maps to the local git hosting's OWNER/REPO."""

from __future__ import annotations

import copy
import re
from typing import Any

from fastapi import APIRouter, Request
from google.cloud.devtools import cloudbuild_v2 as cb2

from localcloud import naming, operations, paging, protojson
from localcloud.errors import ApiError, already_exists, invalid, not_found
from localcloud.state import LocalCloudState, state_of

API = "cloud_build_v2"
PREFIX = "/v2/projects/{project}/locations/{location}/connections"
CONNECTION_TYPE = "type.googleapis.com/google.devtools.cloudbuild.v2.Connection"
REPOSITORY_TYPE = "type.googleapis.com/google.devtools.cloudbuild.v2.Repository"
METADATA_TYPE = "type.googleapis.com/google.devtools.cloudbuild.v2.OperationMetadata"
EMPTY_TYPE = "type.googleapis.com/google.protobuf.Empty"
router = APIRouter(prefix=PREFIX, tags=["cloud_build_v2"])

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~%!$&'()*+,;=@-]{0,62}$")
_REMOTE_URI = re.compile(r"^https?://[^/\s]+(/[^\s?#]+)*/[^/\s]+/[^/\s]+\.git$")


def settle(state: LocalCloudState, now: float) -> None:
    doc = state.document(API)

    def finish(op: dict[str, Any]) -> dict[str, Any] | None:
        if op["error"] is not None:
            return None
        kind, collection = op["kind"].split(":")
        items = doc.setdefault(collection, {})
        if kind == "delete":
            items.pop(op["target"], None)
            if collection == "connections":
                prefix = op["target"] + "/repositories/"
                for name in [n for n in doc.get("repositories", {}) if n.startswith(prefix)]:
                    del doc["repositories"][name]
            return None
        resource = op["pending"]
        resource["updateTime"] = naming.rfc3339(op["done_at"])
        resource.pop("reconciling", None)
        items[op["target"]] = resource
        return copy.deepcopy(resource)

    if operations.settle(doc, now, finish, metadata_is_resource=False):
        state.save(API)


@router.post("")
async def create_connection(project: str, location: str, request: Request) -> dict[str, Any]:
    connection_id = _check_id(request.query_params.get("connectionId", ""), "connection_id")
    connection = protojson.parse(await protojson.body(request), cb2.Connection, "connection")
    name = f"projects/{project}/locations/{location}/connections/{connection_id}"
    github = connection.get("githubConfig")
    if github is None:
        raise invalid("Only githubConfig connections are served by the local cloud.")
    now = naming.now()
    connection.update(
        name=name,
        createTime=naming.rfc3339(now),
        installationState=_installation_state(github, project, location, connection_id),
        etag=naming.etag(name, now),
    )
    return _create(request, project, location, "connections", name, connection, now)


@router.get("")
async def list_connections(project: str, location: str, request: Request) -> dict[str, Any]:
    parent = f"projects/{project}/locations/{location}/connections/"
    return _list(request, "connections", parent, cb2.Connection)


@router.get("/{connection}")
async def get_connection(project: str, location: str, connection: str, request: Request) -> dict:
    state = state_of(request)
    with state.lock:
        found = _get(state, "connections", _conn_name(project, location, connection))
        return _render(found, cb2.Connection, request)


@router.delete("/{connection}")
async def delete_connection(project: str, location: str, connection: str, request: Request):
    return _delete(
        request, project, location, "connections", _conn_name(project, location, connection)
    )


@router.post("/{connection}/repositories")
async def create_repository(project: str, location: str, connection: str, request: Request):
    repository_id = _check_id(request.query_params.get("repositoryId", ""), "repository_id")
    repository = protojson.parse(await protojson.body(request), cb2.Repository, "repository")
    uri = repository.get("remoteUri", "")
    if not _REMOTE_URI.match(uri):
        raise invalid(f"Invalid remote_uri {uri!r}: expected https://HOST/OWNER/REPO.git.")
    parent = _conn_name(project, location, connection)
    state = state_of(request)
    with state.lock:
        found = _get(state, "connections", parent)
        stage = found.get("installationState", {}).get("stage")
        if stage != "COMPLETE":
            raise ApiError(
                "FAILED_PRECONDITION",
                f"Connection {parent} is not ready: installation stage {stage}.",
            )
    name = f"{parent}/repositories/{repository_id}"
    now = naming.now()
    repository.update(name=name, createTime=naming.rfc3339(now), etag=naming.etag(name, now))
    return _create(request, project, location, "repositories", name, repository, now)


@router.get("/{connection}/repositories")
async def list_repositories(project: str, location: str, connection: str, request: Request):
    parent = _conn_name(project, location, connection)
    with state_of(request).lock:
        _get(state_of(request), "connections", parent)
    return _list(request, "repositories", parent + "/repositories/", cb2.Repository)


@router.get("/{connection}/repositories/{repository}")
async def get_repository(
    project: str, location: str, connection: str, repository: str, request: Request
) -> dict[str, Any]:
    state = state_of(request)
    name = f"{_conn_name(project, location, connection)}/repositories/{repository}"
    with state.lock:
        return _render(_get(state, "repositories", name), cb2.Repository, request)


@router.delete("/{connection}/repositories/{repository}")
async def delete_repository(
    project: str, location: str, connection: str, repository: str, request: Request
) -> dict[str, Any]:
    name = f"{_conn_name(project, location, connection)}/repositories/{repository}"
    return _delete(request, project, location, "repositories", name)


def linked_repository(state: LocalCloudState, name: str) -> dict[str, Any] | None:
    """A linked repository by resource name (read by the Cloud Build v1 emulator)."""
    return state.document(API).get("repositories", {}).get(name)


def _installation_state(github: dict, project: str, location: str, connection_id: str) -> dict:
    # As the real service: a token authorizes the user, an installation id completes the app.
    action = f"https://github.com/apps/google-cloud-build/installations/new?state={project}/{location}/{connection_id}"
    if not github.get("authorizerCredential", {}).get("oauthTokenSecretVersion"):
        return {
            "stage": "PENDING_USER_OAUTH",
            "message": "Please log in to https://github.com using a robot account and then follow this link to authorize Cloud Build to access that account. After authorization, your GitHub authorization token will be stored in Cloud Secret Manager.",
            "actionUri": action,
        }
    if not github.get("appInstallationId"):
        return {
            "stage": "PENDING_INSTALL_APP",
            "message": "Please finish installing the app by following the link.",
            "actionUri": action,
        }
    return {"stage": "COMPLETE"}


def _create(
    request: Request,
    project: str,
    location: str,
    collection: str,
    name: str,
    resource: dict[str, Any],
    now: float,
) -> dict[str, Any]:
    state = state_of(request)
    with state.lock:
        doc = state.document(API)
        if name in doc.get(collection, {}) or operations.pending_for(doc, name):
            raise already_exists(f"{collection[:-1].title()} {name} already exists.")
        op = _start(request, state, project, location, f"create:{collection}", name, now)
        op["pending"] = resource
        state.save(API)
        return _render_op(op, protojson.wants_int_enums(request))


def _delete(request: Request, project: str, location: str, collection: str, name: str) -> dict:
    state = state_of(request)
    with state.lock:
        _get(state, collection, name)
        op = _start(request, state, project, location, f"delete:{collection}", name, naming.now())
        state.save(API)
        return _render_op(op, protojson.wants_int_enums(request))


def _list(request: Request, collection: str, prefix: str, cls: Any) -> dict[str, Any]:
    state = state_of(request)
    with state.lock:
        found = [
            copy.deepcopy(r)
            for n, r in sorted(state.document(API).get(collection, {}).items())
            if n.startswith(prefix) and "/" not in n[len(prefix) :]
        ]
    items, token = paging.page(found, *paging.query_params(request), 100, 1000)
    return paging.list_body(collection, [_render(r, cls, request) for r in items], token)


def _start(
    request: Request,
    state: LocalCloudState,
    project: str,
    location: str,
    kind: str,
    target: str,
    now: float,
) -> dict[str, Any]:
    metadata = {"createTime": naming.rfc3339(now), "target": target, "verb": kind.split(":")[0]}
    return operations.start_for_request(
        request, state, API, project, location, kind=kind, target=target, metadata=metadata, now=now
    )


def _get(state: LocalCloudState, collection: str, name: str) -> dict[str, Any]:
    found = state.document(API).get(collection, {}).get(name)
    if found is None:
        raise not_found(f"Resource {name!r} was not found.")
    return found


def _conn_name(project: str, location: str, connection: str) -> str:
    return f"projects/{project}/locations/{location}/connections/{connection}"


def _check_id(value: str, field: str) -> str:
    if not _ID.match(value):
        raise invalid(f"Invalid {field} {value!r}.")
    return value


def _render(resource: dict[str, Any], cls: Any, request: Request) -> dict[str, Any]:
    return protojson.render(resource, cls, protojson.wants_int_enums(request))


def _render_op(op: dict[str, Any], int_enums: bool) -> dict[str, Any]:
    verb, collection = op["kind"].split(":")
    type_url, cls = (
        (CONNECTION_TYPE, cb2.Connection)
        if collection == "connections"
        else (REPOSITORY_TYPE, cb2.Repository)
    )
    body = operations.render(
        op, type_url, cls, int_enums, metadata=(METADATA_TYPE, cb2.OperationMetadata)
    )
    if op["done"] and op["error"] is None and verb == "delete":
        body["response"] = {"@type": EMPTY_TYPE}
    return body


operations.register(API, _render_op)
