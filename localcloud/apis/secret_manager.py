"""Secret Manager API v1: secrets, their versions and payloads, IAM, and list filters.

As the real service does, names in responses carry the project NUMBER
(`projects/123456789012/secrets/x`), whichever of id or number the request used.
"""

from __future__ import annotations

import base64
import copy
import re
from typing import Any

from fastapi import APIRouter, Request
from google.cloud import secretmanager_v1 as sm

from localcloud import iam, naming, paging, protojson
from localcloud.crc32c import crc32c
from localcloud.errors import ApiError, already_exists, invalid, not_found
from localcloud.state import LocalCloudState, state_of

API = "secret_manager"
router = APIRouter(prefix="/v1/projects/{project}/secrets", tags=["secret_manager"])

_SECRET_ID = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_MAX_PAYLOAD = 64 * 1024
_UPDATABLE = {
    "labels": "labels",
    "annotations": "annotations",
    "topics": "topics",
    "rotation": "rotation",
    "expireTime": "expireTime",
    "ttl": "ttl",
    "versionAliases": "versionAliases",
    "versionDestroyTtl": "versionDestroyTtl",
}


@router.post("")
async def create_secret(project: str, request: Request) -> dict[str, Any]:
    secret_id = request.query_params.get("secretId", "")
    if not _SECRET_ID.match(secret_id):
        raise invalid(
            f"Invalid secret_id {secret_id!r}: secret IDs are 1-255 characters of letters, "
            "digits, underscores (_) and hyphens (-)."
        )
    secret = protojson.parse(await protojson.body(request), sm.Secret, "secret")
    if "replication" not in secret:
        raise invalid("Secret.replication must be specified.")
    _check_labels(secret.get("labels", {}))
    state = state_of(request)
    name = f"{_parent(project)}/secrets/{secret_id}"
    with state.lock:
        if name in _secrets(state):
            raise already_exists(f"Secret [{name}] already exists.")
        now = naming.now()
        secret.update(name=name, createTime=naming.rfc3339(now))
        for output_only in ("etag", "policyMember"):
            secret.pop(output_only, None)
        _retag(secret)
        _secrets(state)[name] = {"secret": secret, "versions": {}, "next": 1}
        state.save(API)
        return _render(secret, sm.Secret, request)


@router.get("")
async def list_secrets(project: str, request: Request) -> dict[str, Any]:
    match = _compile_filter(request.query_params.get("filter", ""))
    prefix = f"{_parent(project)}/secrets/"
    state = state_of(request)
    with state.lock:
        found = [
            copy.deepcopy(r["secret"])
            for name, r in sorted(_secrets(state).items())
            if name.startswith(prefix) and match(r["secret"])
        ]
    items, token = paging.page(found, *paging.query_params(request), 25000, 25000)
    rendered = [_render(s, sm.Secret, request) for s in items]
    return paging.list_body("secrets", rendered, token, len(found))


@router.get("/{secret}")
async def get_secret(project: str, secret: str, request: Request) -> dict[str, Any]:
    secret_id, verb = naming.split_verb(secret)
    state = state_of(request)
    with state.lock:
        record = _record(state, project, secret_id)
        if verb == "getIamPolicy":
            return iam.render(iam.get_policy(record), protojson.wants_int_enums(request))
        if verb:
            raise not_found(f"Method not found: GET secrets/{secret}")
        return _render(record["secret"], sm.Secret, request)


@router.patch("/{secret}")
async def update_secret(project: str, secret: str, request: Request) -> dict[str, Any]:
    changes = protojson.parse(await protojson.body(request), sm.Secret, "secret")
    mask = [p for p in request.query_params.get("updateMask", "").split(",") if p]
    if not mask:
        raise invalid("update_mask must be specified.")
    paths = []
    for path in mask:
        field = _UPDATABLE.get(naming.camel(path.strip()))
        if field is None:
            raise invalid(f"Invalid update_mask path {path!r}: that field cannot be updated.")
        paths.append(field)
    _check_labels(changes.get("labels", {}))
    state = state_of(request)
    with state.lock:
        record = _record(state, project, secret)
        current = record["secret"]
        _check_etag(changes.get("etag"), current)
        updated = copy.deepcopy(current)
        for field in paths:
            if field in changes:
                updated[field] = changes[field]
            else:
                updated.pop(field, None)
        _retag(updated)
        record["secret"] = updated
        state.save(API)
        return _render(updated, sm.Secret, request)


@router.delete("/{secret}")
async def delete_secret(project: str, secret: str, request: Request) -> dict[str, Any]:
    state = state_of(request)
    with state.lock:
        record = _record(state, project, secret)
        _check_etag(request.query_params.get("etag"), record["secret"])
        del _secrets(state)[record["secret"]["name"]]
        state.save(API)
    return {}


@router.post("/{secret}")
async def secret_action(project: str, secret: str, request: Request) -> dict[str, Any]:
    secret_id, verb = naming.split_verb(secret)
    body = await protojson.body(request)
    state = state_of(request)
    with state.lock:
        record = _record(state, project, secret_id)
        if verb == "addVersion":
            version = _add_version(record, body)
            state.save(API)
            return _render(version, sm.SecretVersion, request)
        answer = iam.answer_post_verb(
            verb, record, body, protojson.wants_int_enums(request), lambda: state.save(API)
        )
        if answer is not None:
            return answer
    raise not_found(f"Method not found: POST secrets/{secret}")


@router.get("/{secret}/versions")
async def list_versions(project: str, secret: str, request: Request) -> dict[str, Any]:
    wanted = _state_filter(request.query_params.get("filter", ""))
    state = state_of(request)
    with state.lock:
        record = _record(state, project, secret)
        found = [
            copy.deepcopy(v["version"])
            for _, v in sorted(record["versions"].items(), key=lambda kv: -int(kv[0]))
            if wanted is None or v["version"]["state"] == wanted
        ]
    items, token = paging.page(found, *paging.query_params(request), 25000, 25000)
    rendered = [_render(v, sm.SecretVersion, request) for v in items]
    return paging.list_body("versions", rendered, token, len(found))


@router.get("/{secret}/versions/{version}")
async def get_version(project: str, secret: str, version: str, request: Request) -> dict:
    version_id, verb = naming.split_verb(version)
    state = state_of(request)
    with state.lock:
        record = _record(state, project, secret, for_access=version_id == "latest")
        stored = _version(record, version_id)
        if verb is None:
            return _render(stored["version"], sm.SecretVersion, request)
        if verb != "access":
            raise not_found(f"Method not found: GET versions/{version}")
        state_name = stored["version"]["state"]
        if state_name != "ENABLED":
            raise ApiError(
                "FAILED_PRECONDITION",
                f"Secret Version [{stored['version']['name']}] is in {state_name} state.",
            )
        data = base64.b64decode(stored["data"])
        return {
            "name": stored["version"]["name"],
            "payload": {"data": stored["data"], "dataCrc32c": str(crc32c(data))},
        }


@router.post("/{secret}/versions/{version}")
async def version_action(project: str, secret: str, version: str, request: Request) -> dict:
    version_id, verb = naming.split_verb(version)
    targets = {"destroy": "DESTROYED", "disable": "DISABLED", "enable": "ENABLED"}
    if verb not in targets:
        raise not_found(f"Method not found: POST versions/{version}")
    body = await protojson.body(request)
    state = state_of(request)
    with state.lock:
        record = _record(state, project, secret)
        stored = _version(record, version_id)
        current = stored["version"]
        _check_etag(body.get("etag") if isinstance(body, dict) else None, current)
        if current["state"] == "DESTROYED":
            raise ApiError(
                "FAILED_PRECONDITION", f"Secret Version [{current['name']}] is destroyed."
            )
        current["state"] = targets[verb]
        if verb == "destroy":
            current["destroyTime"] = naming.rfc3339(naming.now())
            stored["data"] = ""
        _retag(current)
        state.save(API)
        return _render(current, sm.SecretVersion, request)


def _add_version(record: dict[str, Any], body: Any) -> dict[str, Any]:
    request = protojson.parse(body, sm.AddSecretVersionRequest)
    payload = request.get("payload", {})
    data = base64.b64decode(payload.get("data", ""))
    if len(data) > _MAX_PAYLOAD:
        raise invalid(f"Secret payload is larger than the maximum of {_MAX_PAYLOAD} bytes.")
    checksum = payload.get("dataCrc32c")
    if checksum is not None and int(checksum) != crc32c(data):
        raise invalid("Checksum mismatch: data_crc32c does not match the CRC32C of the payload.")
    secret = record["secret"]
    number = record["next"]
    record["next"] = number + 1
    version: dict[str, Any] = {
        "name": f"{secret['name']}/versions/{number}",
        "createTime": naming.rfc3339(naming.now()),
        "state": "ENABLED",
        "replicationStatus": _replication_status(secret.get("replication", {})),
    }
    if checksum is not None:
        version["clientSpecifiedPayloadChecksum"] = True
    _retag(version)
    record["versions"][str(number)] = {
        "version": version,
        "data": base64.b64encode(data).decode(),
    }
    return version


def _replication_status(replication: dict[str, Any]) -> dict[str, Any]:
    if "userManaged" in replication:
        replicas = [{"location": r["location"]} for r in replication["userManaged"]["replicas"]]
        return {"userManaged": {"replicas": replicas}}
    return {"automatic": {}}


def _version(record: dict[str, Any], version_id: str) -> dict[str, Any]:
    secret = record["secret"]
    versions = record["versions"]
    number = version_id
    if version_id == "latest":
        if not versions:
            raise not_found(f"Secret [{secret['name']}] not found or has no versions.")
        number = str(max(map(int, versions)))
    elif version_id in secret.get("versionAliases", {}):
        number = str(secret["versionAliases"][version_id])
    if number not in versions:
        raise not_found(f"Secret Version [{secret['name']}/versions/{version_id}] not found.")
    return versions[number]


def _compile_filter(text: str):
    terms = [t for t in re.split(r"\s+(?:AND\s+)?", text.strip()) if t and t != "AND"]
    checks = []
    for term in terms:
        match = re.fullmatch(r"(labels\.[\w-]+|name)([=:])(.+)", term)
        if not match:
            raise invalid(f"Invalid filter {text!r}: unsupported term {term!r}.")
        field, operator, value = match.groups()
        checks.append((field, operator, value.strip('"')))

    def matches(secret: dict[str, Any]) -> bool:
        for field, operator, value in checks:
            if field == "name":
                actual = secret["name"] if operator == "=" else secret["name"].rsplit("/", 1)[-1]
            else:
                actual = secret.get("labels", {}).get(field.split(".", 1)[1])
                if actual is None:
                    return False
            if operator == ":" and value == "*":
                continue
            if operator == "=" and actual != value:
                return False
            if operator == ":" and value.lower() not in actual.lower():
                return False
        return True

    return matches


def _state_filter(text: str) -> str | None:
    if not text.strip():
        return None
    match = re.fullmatch(r"\s*state\s*[:=]\s*\"?(ENABLED|DISABLED|DESTROYED)\"?\s*", text)
    if not match:
        raise invalid(
            f"Invalid filter {text!r}: only state:ENABLED|DISABLED|DESTROYED is supported."
        )
    return match.group(1)


def _check_labels(labels: dict[str, str]) -> None:
    if len(labels) > 64:
        raise invalid("A secret can have at most 64 labels.")
    for key, value in labels.items():
        if not (1 <= len(key) <= 63 and key[0].islower() and all(_label_char(c) for c in key)):
            raise invalid(
                f"Invalid label key {key!r}: keys are 1-63 lowercase letters, digits, "
                "underscores or hyphens, starting with a lowercase letter."
            )
        if len(value) > 63 or not all(_label_char(c) for c in value):
            raise invalid(
                f"Invalid label value {value!r} for key {key!r}: values are at most 63 lowercase "
                "letters, digits, underscores or hyphens."
            )


def _label_char(char: str) -> bool:
    return char.islower() or char.isdigit() or char in "_-"


def _check_etag(etag: str | None, resource: dict[str, Any]) -> None:
    if etag and etag != resource.get("etag"):
        raise ApiError("FAILED_PRECONDITION", f"The etag {etag} does not match the current etag.")


def _retag(resource: dict[str, Any]) -> None:
    resource.pop("etag", None)
    resource["etag"] = naming.etag(sorted(resource.items()), naming.now())


def _parent(project: str) -> str:
    return f"projects/{naming.project_number(project)}"


def _secrets(state: LocalCloudState) -> dict[str, dict[str, Any]]:
    return state.document(API).setdefault("secrets", {})


def _record(
    state: LocalCloudState, project: str, secret_id: str, for_access: bool = False
) -> dict[str, Any]:
    name = f"{_parent(project)}/secrets/{secret_id}"
    record = _secrets(state).get(name)
    if record is None:
        suffix = " or has no versions" if for_access else ""
        raise not_found(f"Secret [{name}] not found{suffix}.")
    return record


def _render(resource: dict[str, Any], cls: Any, request: Request) -> dict[str, Any]:
    return protojson.render(resource, cls, protojson.wants_int_enums(request))
