"""Jira Cloud and Jira Service Management through the `jira` client (pycontribs, WIRE_APIS §1).

A customer portal is a Service Management project (there is no "create a service desk" call), its
request types, and a customer organization attached to it. Calls the library lacks go through its
own session (`_session`, `_get_url`), so they carry the same auth. Blocking: activities call this in
a thread. A `JIRAError` is never turned into text: its `str()` holds the request headers, i.e. the
Basic credentials; `JiraProblem` keeps only the status and Jira's own messages.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from jira import JIRA, JIRAError

from core.settings import Settings

# The template of a portal for external customers (listed in the Cloud REST reference).
SERVICE_DESK_TEMPLATE = "com.atlassian.servicedesk:simplified-external-service-desk"
# Request types every customer portal gets: (name, issue type name, description).
REQUEST_TYPES = (
    ("Get help", "Service Request", "Ask the ConneSkills team a question or for help."),
    ("Report an incident", "Incident", "Something of yours stopped working."),
)
_DESK_HEADERS = {"X-ExperimentalApi": "opt-in"}


class JiraProblem(Exception):
    def __init__(self, message: str, status: int | None, retryable: bool) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable


@contextmanager
def jira_errors(what: str) -> Iterator[None]:
    """Jira's answers as JiraProblem: 4xx are final (but 429), 5xx and no answer are retryable."""
    try:
        yield
    except JIRAError as error:
        status = error.status_code
        detail = error.text if isinstance(error.text, str) else ""
        message = f"{what}: Jira answered {status}" + (f": {detail[:300]}" if detail else "")
        retryable = status is None or status == 429 or status >= 500
        raise JiraProblem(message, status, retryable) from None
    except requests.RequestException as error:
        raise JiraProblem(
            f"{what}: Jira unreachable ({type(error).__name__})", None, True
        ) from None


def _not_found(error: JIRAError) -> bool:
    # delete_project raises a JIRAError without a status for a 404 it checks itself.
    return error.status_code == 404 or "not found" in str(error.text or "").lower()


class JiraPortals:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def client(self) -> JIRA:
        token = self.settings.jira_api_token
        # The platform's steps retry (Temporal); the library's own 429/503 backoff would only
        # hide an outage inside one attempt.
        return JIRA(
            server=self.settings.resolved_jira_base_url,
            basic_auth=(self.settings.jira_email, token.get_secret_value() if token else ""),
            max_retries=0,
            timeout=15,
        )

    @staticmethod
    def _call(j: JIRA, method: str, path: str, body: Any = None, **params: Any) -> Any:
        """A call the library has no method for, through its session (its auth, its errors)."""
        url = f"{j.server_url}/rest/{path}"
        data = json.dumps(body) if body is not None else None
        response = j._session.request(method, url, data=data, params=params, headers=_DESK_HEADERS)
        return response.json() if response.content else None

    def project(self, key: str) -> dict[str, Any] | None:
        with jira_errors(f"reading project {key}"):
            j = self.client()
            try:
                return self._call(j, "GET", f"api/2/project/{key}")
            except JIRAError as error:
                if _not_found(error):
                    return None
                raise

    def create_service_desk_project(self, key: str, name: str, mark_url: str) -> dict[str, Any]:
        """`mark_url` becomes the project's URL: it names the job that made the project."""
        with jira_errors(f"creating project {key}"):
            # issueSecurityScheme=0: Cloud sites without issue security list none (WIRE_APIS §1).
            return self.client().create_project(
                key,
                name=name,
                ptype="service_desk",
                template_name=SERVICE_DESK_TEMPLATE,
                issueSecurityScheme=0,
                url=mark_url,
            )

    def service_desk_id(self, project_key: str) -> str | None:
        with jira_errors(f"finding the service desk of {project_key}"):
            for desk in self.client().service_desks():
                if desk.raw.get("projectKey") == project_key:
                    return str(desk.id)
        return None

    def ensure_request_types(self, sd_id: str, project_id: str) -> list[str]:
        """The portal's request types, created when missing; their ids."""
        with jira_errors(f"creating the request types of service desk {sd_id}"):
            j = self.client()
            issue_types = self._call(j, "GET", "api/2/issuetype/project", projectId=project_id)
            type_ids = {t["name"]: str(t["id"]) for t in issue_types}
            existing = {
                t["name"]: t["id"]
                for t in self._call(j, "GET", f"servicedeskapi/servicedesk/{sd_id}/requesttype")[
                    "values"
                ]
            }
            ids = []
            for name, issue_type, description in REQUEST_TYPES:
                if name not in existing:
                    created = self._call(
                        j,
                        "POST",
                        f"servicedeskapi/servicedesk/{sd_id}/requesttype",
                        {
                            "name": name,
                            "issueTypeId": type_ids[issue_type],
                            "description": description,
                            "helpText": "",
                        },
                    )
                    existing[name] = created["id"]
                ids.append(str(existing[name]))
            return ids

    def organization_id(self, name: str) -> str | None:
        with jira_errors(f"finding organization {name!r}"):
            j = self.client()
            start = 0
            while True:
                page = self._call(j, "GET", "servicedeskapi/organization", start=start, limit=50)
                for org in page["values"]:
                    if org["name"] == name:
                        return str(org["id"])
                if page["isLastPage"]:
                    return None
                start += page["size"]

    def create_organization(self, name: str, sd_id: str) -> str:
        """The customer organization, attached to the service desk (idempotent by name)."""
        org_id = self.organization_id(name)
        with jira_errors(f"creating organization {name!r}"):
            j = self.client()
            if org_id is None:
                org_id = str(
                    self._call(j, "POST", "servicedeskapi/organization", {"name": name})["id"]
                )
            self._call(
                j,
                "POST",
                f"servicedeskapi/servicedesk/{sd_id}/organization",
                {"organizationId": int(org_id)},
            )
        return org_id

    def delete_organization(self, org_id: str) -> bool:
        with jira_errors(f"deleting organization {org_id}"):
            try:
                self._call(self.client(), "DELETE", f"servicedeskapi/organization/{org_id}")
                return True
            except JIRAError as error:
                if _not_found(error):
                    return False
                raise

    def delete_project(self, key: str) -> bool:
        with jira_errors(f"deleting project {key}"):
            try:
                self.client().delete_project(key, enable_undo=False)
                return True
            except JIRAError as error:
                if _not_found(error):
                    return False
                raise

    def portal_url(self, sd_id: str) -> str:
        return f"{self.settings.resolved_jira_base_url}/servicedesk/customer/portal/{sd_id}"
