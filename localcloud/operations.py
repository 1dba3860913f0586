"""Long-running operations (google.longrunning.Operation) that finish lazily after a delay.

No background task: an operation records when it becomes due, and `settle` finishes every due
operation (applying its effect through the API's callback) before any request is served, so what a
client sees never depends on timers having fired.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from localcloud import naming, protojson
from localcloud.errors import not_found
from localcloud.faults import faults_of

# How many finished operations to keep for GET after they are done.
_KEEP_DONE = 500

Finish = Callable[[dict[str, Any]], dict[str, Any] | None]
# How each API answers for its operations: (the stored operation, does the client want int enums).
Renderer = Callable[[dict[str, Any], bool], dict[str, Any]]
# One host serves every API here, so `GET /v1|v2/projects/*/locations/*/operations/*` (which Google
# routes by host: run., cloudbuild., artifactregistry.) is answered once, by the API owning the name.
_RENDERERS: dict[str, Renderer] = {}


def register(api: str, renderer: Renderer) -> None:
    """Lets `localcloud.apis.longrunning` answer for the operations kept in `api`'s document."""
    _RENDERERS[api] = renderer


def find(state: Any, name: str, int_enums: bool) -> dict[str, Any]:
    """The rendered operation `name`, whichever registered API keeps it."""
    with state.lock:
        for api, renderer in _RENDERERS.items():
            op = state.document(api).get("operations", {}).get(name)
            if op is not None:
                return renderer(op, int_enums)
    raise not_found(f"Operation {name} not found.")


def start_for_request(
    request: Any,
    state: Any,
    api: str,
    project: str,
    location: str,
    *,
    kind: str,
    target: str,
    metadata: dict[str, Any],
    now: float | None = None,
) -> dict[str, Any]:
    """`start` in `api`'s document, under the request's location, after the emulator's configured
    delay, with the outcome an injected operation fault for this request decides."""
    error = faults_of(request).take_operation_error(request)
    return start(
        state.document(api),
        f"projects/{project}/locations/{location}",
        delay=state.lro_delay,
        kind=kind,
        target=target,
        metadata=metadata,
        error=error,
        now=now,
    )


def start(
    doc: dict[str, Any],
    parent: str,
    *,
    delay: float,
    kind: str,
    target: str,
    metadata: dict[str, Any],
    error: dict[str, Any] | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    now = naming.now() if now is None else now
    record = {
        "name": f"{parent}/operations/{uuid.uuid4()}",
        "kind": kind,
        "target": target,
        "created": now,
        "done_at": now + max(0.0, delay),
        "done": False,
        "metadata": metadata,
        "error": error,
        "response": None,
    }
    doc.setdefault("operations", {})[record["name"]] = record
    return record


def settle(doc: dict[str, Any], now: float, finish: Finish, *, metadata_is_resource=True) -> bool:
    """Finish every due operation in the order they became due; True when anything changed.
    Where the metadata is the resource itself (Cloud Run), it shows the finished resource too."""
    due = [
        op for op in doc.get("operations", {}).values() if not op["done"] and op["done_at"] <= now
    ]
    for op in sorted(due, key=lambda op: op["done_at"]):
        response = finish(op)
        op["done"] = True
        if op["error"] is None:
            op["response"] = response
        if response is not None and metadata_is_resource:
            op["metadata"] = response
    if due:
        _prune(doc)
    return bool(due)


def get(doc: dict[str, Any], name: str) -> dict[str, Any]:
    op = doc.get("operations", {}).get(name)
    if op is None:
        raise not_found(f"Operation {name} not found.")
    return op


def pending_for(doc: dict[str, Any], target: str) -> list[dict[str, Any]]:
    return [
        op for op in doc.get("operations", {}).values() if op["target"] == target and not op["done"]
    ]


def render(
    op: dict[str, Any],
    type_url: str,
    cls: Any,
    int_enums: bool,
    metadata: tuple[str, Any] | None = None,
) -> dict[str, Any]:
    """`metadata` is (type URL, message class) when the metadata is not the resource itself."""
    body: dict[str, Any] = {"name": op["name"]}
    if op.get("metadata") is not None:
        meta_url, meta_cls = metadata or (type_url, cls)
        body["metadata"] = {
            "@type": meta_url,
            **protojson.render(op["metadata"], meta_cls, int_enums),
        }
    body["done"] = op["done"]
    if op["done"] and op["error"] is not None:
        body["error"] = op["error"]
    elif op["done"] and op["response"] is not None:
        body["response"] = {"@type": type_url, **protojson.render(op["response"], cls, int_enums)}
    return body


def _prune(doc: dict[str, Any]) -> None:
    ops = doc.get("operations", {})
    done = sorted((op for op in ops.values() if op["done"]), key=lambda op: op["done_at"])
    for op in done[: max(0, len(done) - _KEEP_DONE)]:
        del ops[op["name"]]
