"""Jira Cloud REST v2/v3 (the platform API), under `/jira/rest/api/{2,3,latest}`, as the `jira`
3.10.5 client calls it (WIRE_APIS §1): server info, the current user, permission and issue security
schemes, projects (a `service_desk` project with a Service Management template gets a service desk:
there is no other way to make one), issue types, groups. Shared parts: `localcloud/jira_common.py`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from localcloud import naming
from localcloud.jira_common import (
    ACCOUNT_ID,
    API,
    ISSUE_TYPES,
    JSM_TEMPLATES,
    PERMISSION_SCHEMES,
    PROJECT_KEY,
    PROJECT_TYPES,
    JiraError,
    answer,
    base_url,
    document,
    find_project,
    json_body,
    next_id,
    platform,
)
from localcloud.state import state_of

router = APIRouter(prefix="/jira/rest", tags=["jira"])

_VERSION = "/api/{version}"


@router.get(_VERSION + "/serverInfo")
@platform
async def server_info(version: str, request: Request) -> Response:
    now = naming.rfc3339(naming.now())
    return answer(
        200,
        {
            "baseUrl": base_url(request),
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
    return answer(
        200,
        {
            "self": f"{base_url(request)}/rest/api/{version}/user?accountId={ACCOUNT_ID}",
            "accountId": ACCOUNT_ID,
            "accountType": "atlassian",
            "displayName": "ConneSkills Platform",
            "active": True,
        },
    )


@router.get(_VERSION + "/permissionscheme")
@platform
async def permission_schemes(version: str, request: Request) -> Response:
    return answer(200, {"permissionSchemes": PERMISSION_SCHEMES})


@router.get(_VERSION + "/issuesecurityschemes")
@platform
async def issue_security_schemes(version: str, request: Request) -> Response:
    # Typical of Cloud plans without issue security: the client must pass issueSecurityScheme=0.
    return answer(200, {"issueSecuritySchemes": []})


@router.get(_VERSION + "/projectCategory")
@platform
async def project_categories(version: str, request: Request) -> Response:
    return answer(200, [])


def _project_json(request: Request, project: dict[str, Any], version: str = "2") -> dict[str, Any]:
    return {
        "self": f"{base_url(request)}/rest/api/{version}/project/{project['id']}",
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
    body = await json_body(request)
    errors: dict[str, str] = {}
    key, name = body.get("key"), body.get("name")
    ptype, template = body.get("projectTypeKey"), body.get("projectTemplateKey")
    if not isinstance(key, str) or not PROJECT_KEY.match(key):
        errors["projectKey"] = (
            "Project keys must start with an uppercase letter, followed by one or more uppercase "
            "alphanumeric characters, and be at most 10 characters long."
        )
    if not isinstance(name, str) or not name.strip() or len(name) > 80:
        errors["projectName"] = "You must specify a valid project name (at most 80 characters)."
    if ptype not in PROJECT_TYPES:
        errors["projectTypeKey"] = "You must specify a valid project type."
    elif ptype == "service_desk" and template not in JSM_TEMPLATES:
        errors["projectTemplateKey"] = "The project template is not valid for this project type."
    if not body.get("leadAccountId"):
        errors["projectLead"] = "You must specify a valid project lead."
    state = state_of(request)
    with state.lock:
        doc = document(state)
        if not errors and find_project(doc, key) is not None:
            errors["projectKey"] = f"Project '{key}' uses this project key."
        if not errors and any(p["name"] == name for p in doc["projects"].values()):
            errors["projectName"] = "A project with that name already exists."
        if errors:
            raise JiraError(400, "", errors)
        project = {
            "id": next_id(doc),
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
    base = base_url(request)
    return answer(
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
        known = find_project(document(state), project_id) if project_id.isdigit() else None
    if known is None:
        raise JiraError(404, f"No project could be found with id '{project_id}'.")
    return answer(
        200,
        [
            {"id": i, "name": n, "subtask": False, "hierarchyLevel": 0}
            for i, n in ISSUE_TYPES.items()
        ],
    )


@router.get(_VERSION + "/project")
@platform
async def list_projects(version: str, request: Request) -> Response:
    state = state_of(request)
    with state.lock:
        projects = [
            _project_json(request, p, version) for p in document(state)["projects"].values()
        ]
    return answer(200, projects)


@router.get(_VERSION + "/project/{key_or_id}")
@platform
async def get_project(version: str, key_or_id: str, request: Request) -> Response:
    state = state_of(request)
    with state.lock:
        project = find_project(document(state), key_or_id)
    if project is None:
        raise JiraError(404, f"No project could be found with key '{key_or_id}'.")
    return answer(200, _project_json(request, project, version))


@router.delete(_VERSION + "/project/{key_or_id}")
@platform
async def delete_project(version: str, key_or_id: str, request: Request) -> Response:
    # `enableUndo` arrives as Python's `True`/`False` from the client: read case-insensitively.
    state = state_of(request)
    with state.lock:
        doc = document(state)
        project = find_project(doc, key_or_id)
        if project is None:
            raise JiraError(404, f"No project could be found with key '{key_or_id}'.")
        del doc["projects"][project["key"]]
        doc["desks"].pop(str(project.get("serviceDeskId")), None)
        state.save(API)
    return answer(204, None)


def _group_json(request: Request, group: dict[str, Any], version: str) -> dict[str, Any]:
    users = group["users"]
    return {
        "name": group["name"],
        "groupId": group["groupId"],
        "self": f"{base_url(request)}/rest/api/{version}/group?groupId={group['groupId']}",
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
    body = await json_body(request)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise JiraError(400, "", {"name": "You must specify a group name."})
    state = state_of(request)
    with state.lock:
        doc = document(state)
        if name.lower() in {g.lower() for g in doc["groups"]}:
            raise JiraError(400, "", {"name": "A group with that name already exists."})
        group = {"name": name, "groupId": f"{naming.short_hash(name, length=8)}", "users": []}
        doc["groups"][name] = group
        state.save(API)
    return answer(201, _group_json(request, group, version))


@router.delete(_VERSION + "/group")
@platform
async def remove_group(version: str, request: Request) -> Response:
    wanted = request.query_params.get("groupname") or request.query_params.get("groupId")
    state = state_of(request)
    with state.lock:
        doc = document(state)
        found = [n for n, g in doc["groups"].items() if wanted in (n, g["groupId"])]
        if not found:
            raise JiraError(404, f"Specified group does not exist: {wanted}")
        del doc["groups"][found[0]]
        state.save(API)
    return answer(200, None)
