"""Jira Cloud REST v2/v3 + Jira Service Management, under `/jira`, as the `jira` 3.10.5 client and
its session call them (WIRE_APIS §1): server info, projects (a `service_desk` project is a service
desk), request types, organizations, groups, customers.

Errors use Jira's shapes: `{"errorMessages": [...], "errors": {...}}` on `/rest/api/*`, and the
Service Management `{"errorMessage", "i18nErrorMessage"}` on `/rest/servicedeskapi/*`. Every call
needs Basic auth, as on Jira Cloud. State lives in the `jira` document (on disk under the data dir).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from localcloud import naming
from localcloud.state import LocalCloudState, state_of

API = "jira"
ACCOUNT_ID = "557058:0f5a1d3e-conneskills-local"
_PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")
_PROJECT_TYPES = {"software", "service_desk", "business"}
# Service Management templates the Cloud REST reference lists (a service desk is such a project).
_JSM_TEMPLATES = {
    "com.atlassian.servicedesk:simplified-it-service-management",
    "com.atlassian.servicedesk:simplified-general-service-desk-it",
    "com.atlassian.servicedesk:simplified-general-service-desk-business",
    "com.atlassian.servicedesk:simplified-external-service-desk",
    "com.atlassian.servicedesk:simplified-hr-service-desk",
    "com.atlassian.servicedesk:next-gen-it-service-desk",
    "com.atlassian.servicedesk:simplified-it-service-desk",
}
_PERMISSION_SCHEMES = [{"id": 0, "name": "Default Permission Scheme", "description": ""}]
_ISSUE_TYPES = {"10001": "Service Request", "10002": "Incident", "10003": "Problem"}


class JiraError(Exception):
    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None) -> None:
        self.status = status
        self.message = message
        self.errors = errors or {}


def _answer(status: int, body: Any) -> Response:
    if status == 204:
        return Response(status_code=204)
    return JSONResponse(status_code=status, content=body)


def _platform_error(error: JiraError) -> Response:
    messages = [] if error.errors and not error.message else [error.message]
    return _answer(error.status, {"errorMessages": messages, "errors": error.errors})


def _desk_error(error: JiraError) -> Response:
    return _answer(
        error.status,
        {"errorMessage": error.message, "i18nErrorMessage": {"i18nKey": "", "parameters": []}},
    )


def _authenticated(request: Request) -> None:
    """Jira Cloud answers 401 to a call without valid Basic credentials (email:api-token)."""
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    try:
        email, sep, token = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        sep = ""
    if scheme.lower() != "basic" or not sep or not email or not token:
        raise JiraError(401, "Client must be authenticated to access this resource.")


router = APIRouter(prefix="/jira/rest", tags=["jira"])


def _doc(state: LocalCloudState) -> dict[str, Any]:
    doc = state.document(API)
    for key in ("projects", "desks", "organizations", "groups", "customers"):
        doc.setdefault(key, {})
    doc.setdefault("next_id", 10000)
    return doc


def _next_id(doc: dict[str, Any]) -> int:
    doc["next_id"] += 1
    return doc["next_id"]


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise JiraError(400, "Unexpected character in the request body: not JSON.") from None
    if not isinstance(body, dict):
        raise JiraError(400, "The request body must be a JSON object.")
    return body


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/jira"


def _find_project(doc: dict[str, Any], key_or_id: str) -> dict[str, Any] | None:
    for project in doc["projects"].values():
        if key_or_id in (project["key"], str(project["id"])):
            return project
    return None


def _desk(doc: dict[str, Any], desk_id: str) -> dict[str, Any]:
    """`{serviceDeskId}` also accepts the project's key or id on Cloud."""
    desk = doc["desks"].get(desk_id)
    if desk is None:
        project = _find_project(doc, desk_id)
        desk = doc["desks"].get(str(project.get("serviceDeskId"))) if project else None
    if desk is None:
        raise JiraError(404, f"The service desk with id '{desk_id}' does not exist.")
    return desk


# --- Jira platform: /rest/api/{2,3,latest}


def _jira_api(shape):
    """Runs a handler after the Basic auth check, answering JiraError in that API's shape."""

    def decorate(handler):
        @functools.wraps(handler)
        async def wrapped(*args, **kwargs):
            try:
                _authenticated(kwargs["request"])
                return await handler(*args, **kwargs)
            except JiraError as error:
                return shape(error)

        return wrapped

    return decorate


platform = _jira_api(_platform_error)
desk_api = _jira_api(_desk_error)


_VERSION = "/api/{version}"


@router.get(_VERSION + "/serverInfo")
@platform
async def server_info(version: str, request: Request) -> Response:
    now = naming.rfc3339(naming.now())
    return _answer(
        200,
        {
            "baseUrl": _base(request),
            "version": "1001.0.0-SNAPSHOT",
            "versionNumbers": [1001, 0, 0],
            "deploymentType": "Cloud",
            "buildNumber": 100_000,
            "buildDate": now,
            "serverTime": now,
            "scmInfo": "localcloud",
            "serverTitle": "ConneSkills local Jira",
        },
    )


@router.get(_VERSION + "/myself")
@platform
async def myself(version: str, request: Request) -> Response:
    return _answer(
        200,
        {
            "self": f"{_base(request)}/rest/api/{version}/user?accountId={ACCOUNT_ID}",
            "accountId": ACCOUNT_ID,
            "accountType": "atlassian",
            "displayName": "ConneSkills Platform",
            "active": True,
        },
    )


@router.get(_VERSION + "/permissionscheme")
@platform
async def permission_schemes(version: str, request: Request) -> Response:
    return _answer(200, {"permissionSchemes": _PERMISSION_SCHEMES})


@router.get(_VERSION + "/issuesecurityschemes")
@platform
async def issue_security_schemes(version: str, request: Request) -> Response:
    # Typical of Cloud plans without issue security: the client must pass issueSecurityScheme=0.
    return _answer(200, {"issueSecuritySchemes": []})


@router.get(_VERSION + "/projectCategory")
@platform
async def project_categories(version: str, request: Request) -> Response:
    return _answer(200, [])


def _project_json(request: Request, project: dict[str, Any], version: str = "2") -> dict[str, Any]:
    return {
        "self": f"{_base(request)}/rest/api/{version}/project/{project['id']}",
        "id": str(project["id"]),
        "key": project["key"],
        "name": project["name"],
        "description": project.get("description", ""),
        "url": project.get("url", ""),
        "projectTypeKey": project["projectTypeKey"],
        "lead": {"accountId": project["leadAccountId"]},
        "simplified": True,
        "style": "next-gen",
    }


@router.post(_VERSION + "/project")
@platform
async def create_project(version: str, request: Request) -> Response:
    body = await _json(request)
    errors: dict[str, str] = {}
    key, name = body.get("key"), body.get("name")
    ptype, template = body.get("projectTypeKey"), body.get("projectTemplateKey")
    if not isinstance(key, str) or not _PROJECT_KEY.match(key):
        errors["projectKey"] = (
            "Project keys must start with an uppercase letter, followed by one or more uppercase "
            "alphanumeric characters, and be at most 10 characters long."
        )
    if not isinstance(name, str) or not name.strip() or len(name) > 80:
        errors["projectName"] = "You must specify a valid project name (at most 80 characters)."
    if ptype not in _PROJECT_TYPES:
        errors["projectTypeKey"] = "You must specify a valid project type."
    elif ptype == "service_desk" and template not in _JSM_TEMPLATES:
        errors["projectTemplateKey"] = "The project template is not valid for this project type."
    if not body.get("leadAccountId"):
        errors["projectLead"] = "You must specify a valid project lead."
    state = state_of(request)
    with state.lock:
        doc = _doc(state)
        if not errors and _find_project(doc, key) is not None:
            errors["projectKey"] = f"Project '{key}' uses this project key."
        if not errors and any(p["name"] == name for p in doc["projects"].values()):
            errors["projectName"] = "A project with that name already exists."
        if errors:
            raise JiraError(400, "", errors)
        project = {
            "id": _next_id(doc),
            "key": key,
            "name": name,
            "projectTypeKey": ptype,
            "projectTemplateKey": template,
            "leadAccountId": body["leadAccountId"],
            "description": body.get("description") or "",
            "url": body.get("url") or "",
        }
        if ptype == "service_desk":
            doc["next_desk"] = doc.get("next_desk", 0) + 1
            desk_id = str(doc["next_desk"])
            doc["desks"][desk_id] = {
                "id": desk_id,
                "projectId": str(project["id"]),
                "projectKey": key,
                "projectName": name,
                "requestTypes": [],
                "organizations": [],
            }
            project["serviceDeskId"] = desk_id
        doc["projects"][key] = project
        state.save(API)
    base = _base(request)
    return _answer(
        201,
        {
            "self": f"{base}/rest/api/{version}/project/{project['id']}",
            "id": project["id"],
            "key": key,
        },
    )


@router.get(_VERSION + "/issuetype/project")
@platform
async def project_issue_types(version: str, request: Request) -> Response:
    project_id = request.query_params.get("projectId", "")
    state = state_of(request)
    with state.lock:
        known = _find_project(_doc(state), project_id) if project_id.isdigit() else None
    if known is None:
        raise JiraError(404, f"No project could be found with id '{project_id}'.")
    return _answer(
        200,
        [
            {"id": i, "name": n, "subtask": False, "hierarchyLevel": 0}
            for i, n in _ISSUE_TYPES.items()
        ],
    )


@router.get(_VERSION + "/project")
@platform
async def list_projects(version: str, request: Request) -> Response:
    state = state_of(request)
    with state.lock:
        projects = [_project_json(request, p, version) for p in _doc(state)["projects"].values()]
    return _answer(200, projects)


@router.get(_VERSION + "/project/{key_or_id}")
@platform
async def get_project(version: str, key_or_id: str, request: Request) -> Response:
    state = state_of(request)
    with state.lock:
        project = _find_project(_doc(state), key_or_id)
    if project is None:
        raise JiraError(404, f"No project could be found with key '{key_or_id}'.")
    return _answer(200, _project_json(request, project, version))


@router.delete(_VERSION + "/project/{key_or_id}")
@platform
async def delete_project(version: str, key_or_id: str, request: Request) -> Response:
    # `enableUndo` arrives as Python's `True`/`False` from the client: read case-insensitively.
    state = state_of(request)
    with state.lock:
        doc = _doc(state)
        project = _find_project(doc, key_or_id)
        if project is None:
            raise JiraError(404, f"No project could be found with key '{key_or_id}'.")
        del doc["projects"][project["key"]]
        doc["desks"].pop(str(project.get("serviceDeskId")), None)
        state.save(API)
    return _answer(204, None)


def _group_json(request: Request, group: dict[str, Any], version: str) -> dict[str, Any]:
    users = group["users"]
    return {
        "name": group["name"],
        "groupId": group["groupId"],
        "self": f"{_base(request)}/rest/api/{version}/group?groupId={group['groupId']}",
        "users": {
            "size": len(users),
            "items": [{"accountId": u} for u in users],
            "max-results": 50,
            "start-index": 0,
            "end-index": max(len(users) - 1, 0),
        },
        "expand": "users",
    }


@router.post(_VERSION + "/group")
@platform
async def add_group(version: str, request: Request) -> Response:
    body = await _json(request)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise JiraError(400, "", {"name": "You must specify a group name."})
    state = state_of(request)
    with state.lock:
        doc = _doc(state)
        if name.lower() in {g.lower() for g in doc["groups"]}:
            raise JiraError(400, "", {"name": "A group with that name already exists."})
        group = {"name": name, "groupId": f"{naming.short_hash(name, length=8)}", "users": []}
        doc["groups"][name] = group
        state.save(API)
    return _answer(201, _group_json(request, group, version))


@router.delete(_VERSION + "/group")
@platform
async def remove_group(version: str, request: Request) -> Response:
    wanted = request.query_params.get("groupname") or request.query_params.get("groupId")
    state = state_of(request)
    with state.lock:
        doc = _doc(state)
        found = [n for n, g in doc["groups"].items() if wanted in (n, g["groupId"])]
        if not found:
            raise JiraError(404, f"Specified group does not exist: {wanted}")
        del doc["groups"][found[0]]
        state.save(API)
    return _answer(200, None)


# --- Jira Service Management: /rest/servicedeskapi


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
        "_links": {"base": _base(request), "context": ""},
    }


def _desk_json(request: Request, desk: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": desk["id"],
        "projectId": desk["projectId"],
        "projectKey": desk["projectKey"],
        "projectName": desk["projectName"],
        "_links": {"self": f"{_base(request)}/rest/servicedeskapi/servicedesk/{desk['id']}"},
    }


@router.get("/servicedeskapi/info")
@desk_api
async def desk_info(request: Request) -> Response:
    return _answer(
        200,
        {"version": "10.0.0", "platformVersion": "1001.0.0", "_links": {"base": _base(request)}},
    )


@router.get("/servicedeskapi/servicedesk")
@desk_api
async def list_desks(request: Request) -> Response:
    state = state_of(request)
    with state.lock:
        desks = [_desk_json(request, d) for d in _doc(state)["desks"].values()]
    return _answer(200, _paged(desks, request))


@router.get("/servicedeskapi/servicedesk/{desk_id}")
@desk_api
async def get_desk(desk_id: str, request: Request) -> Response:
    state = state_of(request)
    with state.lock:
        desk = _desk(_doc(state), desk_id)
    return _answer(200, _desk_json(request, desk))


@router.get("/servicedeskapi/servicedesk/{desk_id}/requesttype")
@desk_api
async def list_request_types(desk_id: str, request: Request) -> Response:
    state = state_of(request)
    with state.lock:
        types = list(_desk(_doc(state), desk_id)["requestTypes"])
    return _answer(200, _paged(types, request))


@router.post("/servicedeskapi/servicedesk/{desk_id}/requesttype")
@desk_api
async def create_request_type(desk_id: str, request: Request) -> Response:
    body = await _json(request)
    name, issue_type = body.get("name"), str(body.get("issueTypeId") or "")
    if not isinstance(name, str) or not name.strip() or len(name) > 60:
        raise JiraError(400, "The request type name is required (at most 60 characters).")
    if issue_type not in _ISSUE_TYPES:
        raise JiraError(400, f"The issue type with id '{issue_type}' does not exist.")
    state = state_of(request)
    with state.lock:
        doc = _doc(state)
        desk = _desk(doc, desk_id)
        if any(t["name"] == name for t in desk["requestTypes"]):
            raise JiraError(409, f"A request type named '{name}' already exists.")
        request_type = {
            "id": str(_next_id(doc)),
            "name": name,
            "description": str(body.get("description") or ""),
            "helpText": str(body.get("helpText") or ""),
            "issueTypeId": issue_type,
            "serviceDeskId": desk["id"],
            "groupIds": [],
        }
        desk["requestTypes"].append(request_type)
        state.save(API)
    return _answer(201, request_type)


def _organization_json(request: Request, org: dict[str, Any]) -> dict[str, Any]:
    link = f"{_base(request)}/rest/servicedeskapi/organization/{org['id']}"
    return {"id": org["id"], "name": org["name"], "_links": {"self": link}}


@router.get("/servicedeskapi/organization")
@desk_api
async def list_organizations(request: Request) -> Response:
    state = state_of(request)
    with state.lock:
        orgs = [_organization_json(request, o) for o in _doc(state)["organizations"].values()]
    return _answer(200, _paged(orgs, request))


@router.post("/servicedeskapi/organization")
@desk_api
async def create_organization(request: Request) -> Response:
    body = await _json(request)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise JiraError(400, "The organization name is required (at most 200 characters).")
    state = state_of(request)
    with state.lock:
        doc = _doc(state)
        if any(o["name"].lower() == name.lower() for o in doc["organizations"].values()):
            raise JiraError(409, f"An organization named '{name}' already exists.")
        org = {"id": str(_next_id(doc)), "name": name, "accountIds": []}
        doc["organizations"][org["id"]] = org
        state.save(API)
    return _answer(201, _organization_json(request, org))


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
        org = _organization(_doc(state), org_id)
    return _answer(200, _organization_json(request, org))


@router.delete("/servicedeskapi/organization/{org_id}")
@desk_api
async def delete_organization(org_id: str, request: Request) -> Response:
    state = state_of(request)
    with state.lock:
        doc = _doc(state)
        _organization(doc, org_id)
        del doc["organizations"][org_id]
        for desk in doc["desks"].values():
            if org_id in desk["organizations"]:
                desk["organizations"].remove(org_id)
        state.save(API)
    return _answer(204, None)


@router.post("/servicedeskapi/organization/{org_id}/user")
@desk_api
async def add_organization_users(org_id: str, request: Request) -> Response:
    body = await _json(request)
    accounts = body.get("accountIds")
    if not isinstance(accounts, list) or not all(isinstance(a, str) for a in accounts):
        raise JiraError(400, "accountIds must be a list of account ids.")
    state = state_of(request)
    with state.lock:
        doc = _doc(state)
        org = _organization(doc, org_id)
        org["accountIds"] = sorted({*org["accountIds"], *accounts})
        state.save(API)
    return _answer(204, None)


@router.get("/servicedeskapi/servicedesk/{desk_id}/organization")
@desk_api
async def list_desk_organizations(desk_id: str, request: Request) -> Response:
    state = state_of(request)
    with state.lock:
        doc = _doc(state)
        desk = _desk(doc, desk_id)
        orgs = [_organization_json(request, doc["organizations"][o]) for o in desk["organizations"]]
    return _answer(200, _paged(orgs, request))


@router.post("/servicedeskapi/servicedesk/{desk_id}/organization")
@desk_api
async def add_desk_organization(desk_id: str, request: Request) -> Response:
    body = await _json(request)
    org_id = body.get("organizationId")
    if isinstance(org_id, bool) or not isinstance(org_id, int | str) or not str(org_id).isdigit():
        raise JiraError(400, "organizationId must be an organization's id.")
    state = state_of(request)
    with state.lock:
        doc = _doc(state)
        desk = _desk(doc, desk_id)
        _organization(doc, str(org_id))
        if str(org_id) not in desk["organizations"]:
            desk["organizations"].append(str(org_id))
        state.save(API)
    return _answer(204, None)


@router.delete("/servicedeskapi/servicedesk/{desk_id}/organization")
@desk_api
async def remove_desk_organization(desk_id: str, request: Request) -> Response:
    body = await _json(request)
    state = state_of(request)
    with state.lock:
        desk = _desk(_doc(state), desk_id)
        org_id = str(body.get("organizationId"))
        if org_id in desk["organizations"]:
            desk["organizations"].remove(org_id)
            state.save(API)
    return _answer(204, None)


@router.post("/servicedeskapi/customer")
@desk_api
async def create_customer(request: Request) -> Response:
    body = await _json(request)
    email, display = body.get("email"), body.get("displayName")
    if not isinstance(email, str) or "@" not in email or not isinstance(display, str):
        raise JiraError(400, "A valid email and displayName are required.")
    state = state_of(request)
    with state.lock:
        doc = _doc(state)
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
    return _answer(201, customer)
