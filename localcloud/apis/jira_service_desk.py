"""Jira Service Management (`/jira/rest/servicedeskapi`), as the `jira` client and its session
call it (WIRE_APIS §1): info, service desks, request types, organizations (JSM's customer groups)
and their users, customers. Shared parts: `localcloud/jira_common.py`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from localcloud import naming
from localcloud.jira_common import (
    API,
    ISSUE_TYPES,
    JiraError,
    answer,
    base_url,
    desk_api,
    document,
    json_body,
    next_id,
    service_desk,
)
from localcloud.state import state_of

router = APIRouter(prefix="/jira/rest", tags=["jira"])


def _paged(values: list[dict[str, Any]], request: Request) -> dict[str, Any]:
    try:
        start = max(int(request.query_params.get("start", 0)), 0)
        limit = min(max(int(request.query_params.get("limit", 50)), 1), 100)
    except ValueError:
        raise JiraError(400, "start and limit must be integers.") from None
    page = values[start : start + limit]
    return {
        "size": len(page),
        "start": start,
        "limit": limit,
        "isLastPage": start + limit >= len(values),
        "values": page,
        "_links": {"base": base_url(request), "context": ""},
    }


def _desk_json(request: Request, desk: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": desk["id"],
        "projectId": desk["projectId"],
        "projectKey": desk["projectKey"],
        "projectName": desk["projectName"],
        "_links": {"self": f"{base_url(request)}/rest/servicedeskapi/servicedesk/{desk['id']}"},
    }


@router.get("/servicedeskapi/info")
@desk_api
async def desk_info(request: Request) -> Response:
    return answer(
        200,
        {"version": "10.0.0", "platformVersion": "1001.0.0", "_links": {"base": base_url(request)}},
    )


@router.get("/servicedeskapi/servicedesk")
@desk_api
async def list_desks(request: Request) -> Response:
    state = state_of(request)
    with state.lock:
        desks = [_desk_json(request, d) for d in document(state)["desks"].values()]
    return answer(200, _paged(desks, request))


@router.get("/servicedeskapi/servicedesk/{desk_id}")
@desk_api
async def get_desk(desk_id: str, request: Request) -> Response:
    state = state_of(request)
    with state.lock:
        desk = service_desk(document(state), desk_id)
    return answer(200, _desk_json(request, desk))


@router.get("/servicedeskapi/servicedesk/{desk_id}/requesttype")
@desk_api
async def list_request_types(desk_id: str, request: Request) -> Response:
    state = state_of(request)
    with state.lock:
        types = list(service_desk(document(state), desk_id)["requestTypes"])
    return answer(200, _paged(types, request))


@router.post("/servicedeskapi/servicedesk/{desk_id}/requesttype")
@desk_api
async def create_request_type(desk_id: str, request: Request) -> Response:
    body = await json_body(request)
    name, issue_type = body.get("name"), str(body.get("issueTypeId") or "")
    if not isinstance(name, str) or not name.strip() or len(name) > 60:
        raise JiraError(400, "The request type name is required (at most 60 characters).")
    if issue_type not in ISSUE_TYPES:
        raise JiraError(400, f"The issue type with id '{issue_type}' does not exist.")
    state = state_of(request)
    with state.lock:
        doc = document(state)
        desk = service_desk(doc, desk_id)
        if any(t["name"] == name for t in desk["requestTypes"]):
            raise JiraError(409, f"A request type named '{name}' already exists.")
        request_type = {
            "id": str(next_id(doc)),
            "name": name,
            "description": str(body.get("description") or ""),
            "helpText": str(body.get("helpText") or ""),
            "issueTypeId": issue_type,
            "serviceDeskId": desk["id"],
            "groupIds": [],
        }
        desk["requestTypes"].append(request_type)
        state.save(API)
    return answer(201, request_type)


def _organization_json(request: Request, org: dict[str, Any]) -> dict[str, Any]:
    link = f"{base_url(request)}/rest/servicedeskapi/organization/{org['id']}"
    return {"id": org["id"], "name": org["name"], "_links": {"self": link}}


@router.get("/servicedeskapi/organization")
@desk_api
async def list_organizations(request: Request) -> Response:
    state = state_of(request)
    with state.lock:
        orgs = [_organization_json(request, o) for o in document(state)["organizations"].values()]
    return answer(200, _paged(orgs, request))


@router.post("/servicedeskapi/organization")
@desk_api
async def create_organization(request: Request) -> Response:
    body = await json_body(request)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise JiraError(400, "The organization name is required (at most 200 characters).")
    state = state_of(request)
    with state.lock:
        doc = document(state)
        if any(o["name"].lower() == name.lower() for o in doc["organizations"].values()):
            raise JiraError(409, f"An organization named '{name}' already exists.")
        org = {"id": str(next_id(doc)), "name": name, "accountIds": []}
        doc["organizations"][org["id"]] = org
        state.save(API)
    return answer(201, _organization_json(request, org))


def _organization(doc: dict[str, Any], org_id: str) -> dict[str, Any]:
    org = doc["organizations"].get(org_id)
    if org is None:
        raise JiraError(404, f"The organization with id '{org_id}' does not exist.")
    return org


@router.get("/servicedeskapi/organization/{org_id}")
@desk_api
async def get_organization(org_id: str, request: Request) -> Response:
    state = state_of(request)
    with state.lock:
        org = _organization(document(state), org_id)
    return answer(200, _organization_json(request, org))


@router.delete("/servicedeskapi/organization/{org_id}")
@desk_api
async def delete_organization(org_id: str, request: Request) -> Response:
    state = state_of(request)
    with state.lock:
        doc = document(state)
        _organization(doc, org_id)
        del doc["organizations"][org_id]
        for desk in doc["desks"].values():
            if org_id in desk["organizations"]:
                desk["organizations"].remove(org_id)
        state.save(API)
    return answer(204, None)


@router.post("/servicedeskapi/organization/{org_id}/user")
@desk_api
async def add_organization_users(org_id: str, request: Request) -> Response:
    body = await json_body(request)
    accounts = body.get("accountIds")
    if not isinstance(accounts, list) or not all(isinstance(a, str) for a in accounts):
        raise JiraError(400, "accountIds must be a list of account ids.")
    state = state_of(request)
    with state.lock:
        doc = document(state)
        org = _organization(doc, org_id)
        org["accountIds"] = sorted({*org["accountIds"], *accounts})
        state.save(API)
    return answer(204, None)


@router.get("/servicedeskapi/servicedesk/{desk_id}/organization")
@desk_api
async def list_desk_organizations(desk_id: str, request: Request) -> Response:
    state = state_of(request)
    with state.lock:
        doc = document(state)
        desk = service_desk(doc, desk_id)
        orgs = [_organization_json(request, doc["organizations"][o]) for o in desk["organizations"]]
    return answer(200, _paged(orgs, request))


@router.post("/servicedeskapi/servicedesk/{desk_id}/organization")
@desk_api
async def add_desk_organization(desk_id: str, request: Request) -> Response:
    body = await json_body(request)
    org_id = body.get("organizationId")
    if isinstance(org_id, bool) or not isinstance(org_id, int | str) or not str(org_id).isdigit():
        raise JiraError(400, "organizationId must be an organization's id.")
    state = state_of(request)
    with state.lock:
        doc = document(state)
        desk = service_desk(doc, desk_id)
        _organization(doc, str(org_id))
        if str(org_id) not in desk["organizations"]:
            desk["organizations"].append(str(org_id))
        state.save(API)
    return answer(204, None)


@router.delete("/servicedeskapi/servicedesk/{desk_id}/organization")
@desk_api
async def remove_desk_organization(desk_id: str, request: Request) -> Response:
    body = await json_body(request)
    state = state_of(request)
    with state.lock:
        desk = service_desk(document(state), desk_id)
        org_id = str(body.get("organizationId"))
        if org_id in desk["organizations"]:
            desk["organizations"].remove(org_id)
            state.save(API)
    return answer(204, None)


@router.post("/servicedeskapi/customer")
@desk_api
async def create_customer(request: Request) -> Response:
    body = await json_body(request)
    email, display = body.get("email"), body.get("displayName")
    if not isinstance(email, str) or "@" not in email or not isinstance(display, str):
        raise JiraError(400, "A valid email and displayName are required.")
    state = state_of(request)
    with state.lock:
        doc = document(state)
        if email.lower() in doc["customers"]:
            raise JiraError(400, "An account already exists for this email.")
        customer = {
            "accountId": f"qm:{naming.short_hash(email, length=12)}",
            "emailAddress": email,
            "displayName": display,
            "active": True,
            "timeZone": "UTC",
        }
        doc["customers"][email.lower()] = customer
        state.save(API)
    return answer(201, customer)
