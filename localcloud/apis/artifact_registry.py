"""Artifact Registry API v1: repositories (created and deleted through long-running operations) and
the Docker images a build pushed into them."""

from __future__ import annotations

import copy
import re
from typing import Any

from fastapi import APIRouter, Request
from google.cloud import artifactregistry_v1 as ar

from localcloud import naming, operations, paging, protojson
from localcloud.errors import already_exists, invalid, not_found
from localcloud.state import LocalCloudState, state_of

API = "artifact_registry"
PREFIX = "/v1/projects/{project}/locations/{location}"
REPOSITORY_TYPE = "type.googleapis.com/google.devtools.artifactregistry.v1.Repository"
METADATA_TYPE = "type.googleapis.com/google.devtools.artifactregistry.v1.OperationMetadata"
EMPTY_TYPE = "type.googleapis.com/google.protobuf.Empty"
router = APIRouter(prefix=PREFIX, tags=["artifact_registry"])

# Repository ids: lowercase letters, digits and hyphens, starting with a letter, at most 63.
_REPOSITORY_ID = re.compile(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
_LOCATION = re.compile(r"^[a-z]+-[a-z]+[0-9]$|^(us|europe|asia)$")


def settle(state: LocalCloudState, now: float) -> None:
    doc = state.document(API)

    def finish(op: dict[str, Any]) -> dict[str, Any] | None:
        repos = doc.setdefault("repositories", {})
        if op["error"] is not None:
            return None
        if op["kind"] == "delete":
            repos.pop(op["target"], None)
            doc.setdefault("images", {}).pop(op["target"], None)
            return None
        repository = op["pending"]
        repository["updateTime"] = naming.rfc3339(op["done_at"])
        repos[op["target"]] = repository
        return copy.deepcopy(repository)

    if operations.settle(doc, now, finish, metadata_is_resource=False):
        state.save(API)


@router.post("/repositories")
async def create_repository(project: str, location: str, request: Request) -> dict[str, Any]:
    repo_id = request.query_params.get("repositoryId", "")
    if not _REPOSITORY_ID.match(repo_id):
        raise invalid(
            f"Invalid repository id {repo_id!r}: use lowercase letters, digits and hyphens, "
            "start with a letter, end with a letter or digit, at most 63 characters."
        )
    if not _LOCATION.match(location):
        raise invalid(f"Invalid location {location!r}.")
    repository = protojson.parse(await protojson.body(request), ar.Repository, "repository")
    if repository.get("format", "FORMAT_UNSPECIFIED") == "FORMAT_UNSPECIFIED":
        raise invalid("Repository.format must be specified.")
    _check_labels(repository.get("labels", {}))
    state = state_of(request)
    name = f"projects/{project}/locations/{location}/repositories/{repo_id}"
    with state.lock:
        doc = state.document(API)
        if name in doc.get("repositories", {}) or operations.pending_for(doc, name):
            raise already_exists(f"the repository already exists: {name}")
        now = naming.now()
        host = f"{location}-docker.pkg.dev" if repository["format"] == "DOCKER" else location
        repository.update(
            name=name,
            mode=repository.get("mode") or "STANDARD_REPOSITORY",
            createTime=naming.rfc3339(now),
            registryUri=f"{host}/{project}/{repo_id}",
        )
        op = operations.start_for_request(
            request, state, API, project, location, kind="create", target=name, metadata={}, now=now
        )
        op["pending"] = repository
        state.save(API)
        return _render_op(op, protojson.wants_int_enums(request))


@router.get("/repositories")
async def list_repositories(project: str, location: str, request: Request) -> dict[str, Any]:
    state = state_of(request)
    parent = f"projects/{project}/locations/{location}/repositories/"
    with state.lock:
        found = [
            copy.deepcopy(r)
            for n, r in sorted(state.document(API).get("repositories", {}).items())
            if n.startswith(parent)
        ]
    items, token = paging.page(found, *paging.query_params(request), 100, 1000)
    return paging.list_body("repositories", [_render(r, request) for r in items], token)


@router.get("/repositories/{repo}")
async def get_repository(project: str, location: str, repo: str, request: Request) -> dict:
    state = state_of(request)
    with state.lock:
        return _render(_repository(state, project, location, repo), request)


@router.delete("/repositories/{repo}")
async def delete_repository(project: str, location: str, repo: str, request: Request) -> dict:
    state = state_of(request)
    with state.lock:
        repository = _repository(state, project, location, repo)
        op = operations.start_for_request(
            request,
            state,
            API,
            project,
            location,
            kind="delete",
            target=repository["name"],
            metadata={},
        )
        state.save(API)
        return _render_op(op, protojson.wants_int_enums(request))


@router.get("/repositories/{repo}/dockerImages")
async def list_docker_images(project: str, location: str, repo: str, request: Request) -> dict:
    state = state_of(request)
    with state.lock:
        repository = _repository(state, project, location, repo)
        images = list(state.document(API).get("images", {}).get(repository["name"], {}).values())
    images.sort(key=lambda image: image["name"])
    items, token = paging.page(images, *paging.query_params(request), 100, 1000)
    rendered = [
        protojson.render(i, ar.DockerImage, protojson.wants_int_enums(request)) for i in items
    ]
    return paging.list_body("dockerImages", rendered, token)


def push_image(state: LocalCloudState, image_ref: str, digest: str, now: float) -> str | None:
    """Record a pushed `HOST/PROJECT/REPO/IMAGE:TAG`; the reason it is refused, or None.
    Called by the Cloud Build emulator, under the state lock, when a build pushes."""
    match = re.match(
        r"^([a-z0-9-]+)-docker\.pkg\.dev/([^/]+)/([^/]+)/([^:@]+)(?::([\w.-]+))?$", image_ref
    )
    if not match:
        return f"{image_ref} is not an Artifact Registry Docker image"
    location, project, repo, image, tag = match.groups()
    name = f"projects/{project}/locations/{location}/repositories/{repo}"
    doc = state.document(API)
    repository = doc.get("repositories", {}).get(name)
    if repository is None or repository.get("format") != "DOCKER":
        return f'name unknown: Repository "{repo}" not found'
    images = doc.setdefault("images", {}).setdefault(name, {})
    key = f"{image}@{digest}"
    record = images.setdefault(
        key,
        {
            "name": f"{name}/dockerImages/{image}@{digest}",
            "uri": f"{location}-docker.pkg.dev/{project}/{repo}/{image}@{digest}",
            "tags": [],
            "uploadTime": naming.rfc3339(now),
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        },
    )
    tag = tag or "latest"
    for other in images.values():
        if other is not record and other["name"].split("/dockerImages/")[1].startswith(f"{image}@"):
            other["tags"] = [t for t in other["tags"] if t != tag]
    if tag not in record["tags"]:
        record["tags"].append(tag)
    record["updateTime"] = naming.rfc3339(now)
    state.save(API)
    return None


def _repository(state: LocalCloudState, project: str, location: str, repo: str) -> dict[str, Any]:
    name = f"projects/{project}/locations/{location}/repositories/{repo}"
    repository = state.document(API).get("repositories", {}).get(name)
    if repository is None:
        raise not_found("Requested entity was not found.")
    return repository


def _check_labels(labels: dict[str, str]) -> None:
    if len(labels) > 64:
        raise invalid("A repository can have at most 64 labels.")
    for key, value in labels.items():
        if not _LABEL_KEY.match(key) or not _LABEL_VALUE.match(value):
            raise invalid(
                f"Invalid label {key!r}: keys and values use lowercase letters, digits, _ and -."
            )


def _render(repository: dict[str, Any], request: Request) -> dict[str, Any]:
    return protojson.render(repository, ar.Repository, protojson.wants_int_enums(request))


def _render_op(op: dict[str, Any], int_enums: bool) -> dict[str, Any]:
    body = operations.render(
        op,
        REPOSITORY_TYPE,
        ar.Repository,
        int_enums,
        metadata=(METADATA_TYPE, ar.OperationMetadata),
    )
    if op["done"] and op["error"] is None and op["kind"] == "delete":
        body["response"] = {"@type": EMPTY_TYPE}
    return body


operations.register(API, _render_op)
