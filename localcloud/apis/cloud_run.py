"""Cloud Run Admin API v2: services (with long-running operations), their operations and IAM."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from fastapi import APIRouter, Request
from google.cloud import run_v2

from localcloud import (
    iam,
    naming,
    operations,
    paging,
    protojson,
    run_logs,
    run_model,
    run_validation,
)
from localcloud.errors import ApiError, already_exists, invalid, not_found
from localcloud.state import LocalCloudState, state_of

API = "cloud_run"
PREFIX = "/v2/projects/{project}/locations/{location}"
router = APIRouter(prefix=PREFIX, tags=["cloud_run"])


def settle(state: LocalCloudState, now: float) -> None:
    doc = state.document(API)

    def finish(op: dict[str, Any]) -> dict[str, Any] | None:
        return _finish(state, doc, op)

    if operations.settle(doc, now, finish):
        state.save(API)


@router.post("/services")
async def create_service(project: str, location: str, request: Request) -> dict[str, Any]:
    service_id = run_model.validate_service_id(request.query_params.get("serviceId"))
    spec = run_model.parse_spec(await protojson.body(request))
    run_validation.check_location(location)
    return _create(request, project, location, service_id, spec, "Create")


@router.get("/services")
async def list_services(project: str, location: str, request: Request) -> dict[str, Any]:
    state = state_of(request)
    parent = f"projects/{project}/locations/{location}/services/"
    with state.lock:
        services = [
            copy.deepcopy(r["service"])
            for name, r in sorted(_services(state).items())
            if name.startswith(parent) or (location == "-" and f"projects/{project}/" in name)
        ]
    items, token = paging.page(services, *paging.query_params(request), 100, 1000)
    return paging.list_body("services", [_render(s, request) for s in items], token)


@router.get("/services/{name}")
async def get_service(project: str, location: str, name: str, request: Request) -> dict:
    service_id, verb = naming.split_verb(name)
    state = state_of(request)
    with state.lock:
        record = _record(state, project, location, service_id)
        if verb == "getIamPolicy":
            return iam.render(iam.get_policy(record), protojson.wants_int_enums(request))
        if verb:
            raise not_found(f"Method not found: GET services/{name}")
        return _render(record["service"], request)


@router.post("/services/{name}")
async def service_action(project: str, location: str, name: str, request: Request) -> dict:
    service_id, verb = naming.split_verb(name)
    body = await protojson.body(request)
    state = state_of(request)
    with state.lock:
        record = _record(state, project, location, service_id)
        answer = iam.answer_post_verb(
            verb, record, body, protojson.wants_int_enums(request), lambda: state.save(API)
        )
        if answer is not None:
            return answer
    raise not_found(f"Method not found: POST services/{name}")


@router.patch("/services/{name}")
async def update_service(project: str, location: str, name: str, request: Request) -> dict:
    spec = run_model.parse_spec(await protojson.body(request))
    run_validation.check_location(location)
    full_name = f"projects/{project}/locations/{location}/services/{name}"
    if spec["_name"] and spec["_name"] != full_name:
        raise invalid(f"service.name {spec['_name']!r} does not match the URL {full_name!r}.")
    allow_missing = request.query_params.get("allowMissing", "").lower() == "true"
    state = state_of(request)
    with state.lock:
        if full_name not in _services(state):
            if not allow_missing:
                raise _missing(project, location, name)
            service_id = run_model.validate_service_id(name)
            return _create(request, project, location, service_id, spec, "Update")
        record = _services(state)[full_name]
        now = naming.now()
        service, new_revision = run_model.apply_spec(
            record["service"], spec, project, now, record["revisions"] + 1
        )
        # The service as it would be, server defaults included, before anything is stored.
        run_validation.check_service(service, "Update")
        if _validate_only(request):
            return _preview(request, project, location, service)
        record["revisions"] += 1 if new_revision else 0
        run_model.mark_reconciling(service, now)
        record["service"] = service
        return _start(request, state, project, location, "update", service, now)


@router.delete("/services/{name}")
async def delete_service(project: str, location: str, name: str, request: Request) -> dict:
    state = state_of(request)
    with state.lock:
        record = _record(state, project, location, name)
        service = copy.deepcopy(record["service"])
        if _validate_only(request):
            return _preview(request, project, location, service)
        now = naming.now()
        service["reconciling"] = True
        return _start(request, state, project, location, "delete", service, now)


@router.get("/operations")
async def list_operations(project: str, location: str, request: Request) -> dict[str, Any]:
    state = state_of(request)
    prefix = f"projects/{project}/locations/{location}/operations/"
    with state.lock:
        ops = sorted(
            (op for n, op in _doc(state).get("operations", {}).items() if n.startswith(prefix)),
            key=lambda op: op["created"],
        )
        rendered = [_render_op(op, request) for op in ops]
    items, token = paging.page(rendered, *paging.query_params(request), 100, 1000)
    return paging.list_body("operations", items, token)


@router.delete("/operations/{op_id}")
async def delete_operation(project: str, location: str, op_id: str, request: Request) -> dict:
    state = state_of(request)
    with state.lock:
        op = _op(state, project, location, op_id)
        if not op["done"]:
            raise ApiError(
                "FAILED_PRECONDITION", "Operation is still running; it cannot be deleted."
            )
        del _doc(state)["operations"][op["name"]]
        state.save(API)
    return {}


@router.post("/operations/{op_id}")
async def wait_operation(project: str, location: str, op_id: str, request: Request) -> dict:
    op_id, verb = naming.split_verb(op_id)
    if verb != "wait":
        raise not_found(f"Method not found: POST operations/{op_id}:{verb}")
    body = await protojson.body(request)
    timeout = _seconds(body.get("timeout", "60s") if isinstance(body, dict) else "60s")
    state = state_of(request)
    with state.lock:
        due = _op(state, project, location, op_id)["done_at"]
    # Sleep without the lock; settle() finishes the operation on the next look.
    await asyncio.sleep(max(0.0, min(timeout, due - naming.now())))
    state.settle()
    with state.lock:
        return _render_op(_op(state, project, location, op_id), request)


def _create(
    request: Request,
    project: str,
    location: str,
    service_id: str,
    spec: dict[str, Any],
    request_kind: str,
) -> dict[str, Any]:
    state = state_of(request)
    with state.lock:
        full_name = f"projects/{project}/locations/{location}/services/{service_id}"
        if full_name in _services(state):
            raise already_exists(f"Resource '{service_id}' already exists.")
        now = naming.now()
        service = run_model.new_service(project, location, service_id, spec, now)
        service, _ = run_model.apply_spec(service, spec, project, now, 1)
        run_validation.check_service(service, request_kind)
        if _validate_only(request):
            return _preview(request, project, location, service)
        run_model.mark_reconciling(service, now)
        _services(state)[full_name] = {"service": service, "revisions": 1}
        return _start(request, state, project, location, "create", service, now)


def _start(
    request: Request,
    state: LocalCloudState,
    project: str,
    location: str,
    kind: str,
    service: dict[str, Any],
    now: float,
) -> dict[str, Any]:
    op = operations.start_for_request(
        request,
        state,
        API,
        project,
        location,
        kind=kind,
        target=service["name"],
        metadata=copy.deepcopy(service),
        now=now,
    )
    state.save(API)
    run_logs.accepted(state, kind, service, now)
    return _render_op(op, request)


def _finish(state: LocalCloudState, doc: dict[str, Any], op: dict[str, Any]) -> dict | None:
    record = doc.get("services", {}).get(op["target"])
    error = op["error"]["message"] if op["error"] else None
    when = op["done_at"]
    if record is None:
        return op["metadata"]
    service = record["service"]
    if op["kind"] == "delete":
        if error is None:
            del doc["services"][op["target"]]
            service = {**service, "deleteTime": naming.rfc3339(when)}
            service.pop("reconciling", None)
        run_logs.finished(state, "delete", service, op["created"], when, error)
        return copy.deepcopy(service)
    others = [p for p in operations.pending_for(doc, op["target"]) if p["name"] != op["name"]]
    if error is not None:
        run_model.mark_failed(service, when, error)
    elif not others:
        run_model.mark_ready(service, when)
    run_logs.finished(state, op["kind"], service, op["created"], when, error)
    return copy.deepcopy(service)


def _preview(request: Request, project: str, location: str, service: dict) -> dict[str, Any]:
    # validateOnly: the would-be result, already done, and nothing stored.
    now = naming.now()
    run_model.mark_ready(service, now)
    op = {
        "name": f"projects/{project}/locations/{location}/operations/validate-only",
        "done": True,
        "error": None,
        "metadata": service,
        "response": service,
    }
    return _render_op(op, request)


def _doc(state: LocalCloudState) -> dict[str, Any]:
    return state.document(API)


def _services(state: LocalCloudState) -> dict[str, dict[str, Any]]:
    return _doc(state).setdefault("services", {})


def _record(state: LocalCloudState, project: str, location: str, service_id: str) -> dict:
    record = _services(state).get(f"projects/{project}/locations/{location}/services/{service_id}")
    if record is None:
        raise _missing(project, location, service_id)
    return record


def _missing(project: str, location: str, service_id: str) -> ApiError:
    return not_found(
        f"Resource '{service_id}' of kind 'SERVICE' in region '{location}' "
        f"in project '{project}' does not exist."
    )


def _op(state: LocalCloudState, project: str, location: str, op_id: str) -> dict[str, Any]:
    return operations.get(
        _doc(state), f"projects/{project}/locations/{location}/operations/{op_id}"
    )


def _render(service: dict[str, Any], request: Request) -> dict[str, Any]:
    return protojson.render(service, run_v2.Service, protojson.wants_int_enums(request))


def _render_op(op: dict[str, Any], request: Request) -> dict[str, Any]:
    return _render_op_as(op, protojson.wants_int_enums(request))


def _render_op_as(op: dict[str, Any], int_enums: bool) -> dict[str, Any]:
    return operations.render(op, run_model.SERVICE_TYPE, run_v2.Service, int_enums)


# GET of one operation is served by localcloud.apis.longrunning.
operations.register(API, _render_op_as)


def _validate_only(request: Request) -> bool:
    return request.query_params.get("validateOnly", "").lower() == "true"


def _seconds(duration: Any) -> float:
    try:
        return float(str(duration).rstrip("s"))
    except ValueError:
        raise invalid(f"Invalid duration {duration!r}.") from None
