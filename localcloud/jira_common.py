"""What the Jira emulator's two APIs share (`localcloud/apis/jira.py` for the platform's
`/rest/api/*`, `localcloud/apis/jira_service_desk.py` for Service Management's
`/rest/servicedeskapi/*`): the `jira` state document, Basic auth, and Jira's error shapes.

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

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from localcloud.state import LocalCloudState

API = "jira"
ACCOUNT_ID = "557058:0f5a1d3e-conneskills-local"
PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")
PROJECT_TYPES = {"software", "service_desk", "business"}
# Service Management templates the Cloud REST reference lists (a service desk is such a project).
JSM_TEMPLATES = {
    "com.atlassian.servicedesk:simplified-it-service-management",
    "com.atlassian.servicedesk:simplified-general-service-desk-it",
    "com.atlassian.servicedesk:simplified-general-service-desk-business",
    "com.atlassian.servicedesk:simplified-external-service-desk",
    "com.atlassian.servicedesk:simplified-hr-service-desk",
    "com.atlassian.servicedesk:next-gen-it-service-desk",
    "com.atlassian.servicedesk:simplified-it-service-desk",
}
PERMISSION_SCHEMES = [{"id": 0, "name": "Default Permission Scheme", "description": ""}]
ISSUE_TYPES = {"10001": "Service Request", "10002": "Incident", "10003": "Problem"}


class JiraError(Exception):
    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None) -> None:
        self.status = status
        self.message = message
        self.errors = errors or {}


def answer(status: int, body: Any) -> Response:
    if status == 204:
        return Response(status_code=204)
    return JSONResponse(status_code=status, content=body)


def platform_error(error: JiraError) -> Response:
    messages = [] if error.errors and not error.message else [error.message]
    return answer(error.status, {"errorMessages": messages, "errors": error.errors})


def desk_error(error: JiraError) -> Response:
    return answer(
        error.status,
        {"errorMessage": error.message, "i18nErrorMessage": {"i18nKey": "", "parameters": []}},
    )


def authenticated(request: Request) -> None:
    """Jira Cloud answers 401 to a call without valid Basic credentials (email:api-token)."""
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    try:
        email, sep, token = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        sep = ""
    if scheme.lower() != "basic" or not sep or not email or not token:
        raise JiraError(401, "Client must be authenticated to access this resource.")


def document(state: LocalCloudState) -> dict[str, Any]:
    doc = state.document(API)
    for key in ("projects", "desks", "organizations", "groups", "customers"):
        doc.setdefault(key, {})
    doc.setdefault("next_id", 10000)
    return doc


def next_id(doc: dict[str, Any]) -> int:
    doc["next_id"] += 1
    return doc["next_id"]


async def json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise JiraError(400, "Unexpected character in the request body: not JSON.") from None
    if not isinstance(body, dict):
        raise JiraError(400, "The request body must be a JSON object.")
    return body


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/jira"


def find_project(doc: dict[str, Any], key_or_id: str) -> dict[str, Any] | None:
    for project in doc["projects"].values():
        if key_or_id in (project["key"], str(project["id"])):
            return project
    return None


def service_desk(doc: dict[str, Any], desk_id: str) -> dict[str, Any]:
    """`{serviceDeskId}` also accepts the project's key or id on Cloud."""
    desk = doc["desks"].get(desk_id)
    if desk is None:
        project = find_project(doc, desk_id)
        desk = doc["desks"].get(str(project.get("serviceDeskId"))) if project else None
    if desk is None:
        raise JiraError(404, f"The service desk with id '{desk_id}' does not exist.")
    return desk


def jira_api(shape):
    """Runs a handler after the Basic auth check, answering JiraError in that API's shape."""

    def decorate(handler):
        @functools.wraps(handler)
        async def wrapped(*args, **kwargs):
            try:
                authenticated(kwargs["request"])
                return await handler(*args, **kwargs)
            except JiraError as error:
                return shape(error)

        return wrapped

    return decorate


platform = jira_api(platform_error)
desk_api = jira_api(desk_error)
