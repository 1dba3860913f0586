"""The Jira emulator through the official `jira` client (and its session for the Service Management
calls it lacks): what the client sends, Jira's error shapes, auth, faults, state on disk."""

from __future__ import annotations

import json

import pytest
import requests
from jira import JIRA, JIRAError

from localcloud.testing import LocalCloud
from tests.localcloud import unique


def client(cloud: LocalCloud) -> JIRA:
    return JIRA(server=f"{cloud.url}/jira", basic_auth=("me@example.com", "token"), max_retries=0)


def desk_call(j: JIRA, method: str, path: str, body=None):
    response = j._session.request(
        method,
        f"{j.server_url}/rest/servicedeskapi/{path}",
        data=json.dumps(body) if body is not None else None,
        headers={"X-ExperimentalApi": "opt-in"},
    )
    return response.json() if response.content else None


def key() -> str:
    return unique("k").replace("-", "").upper()[:10]


def test_a_service_desk_project_is_a_portal_with_request_types_and_organizations(localcloud):
    j = client(localcloud)
    assert j._is_cloud and j.supports_service_desk()
    project_key = key()
    created = j.create_project(
        project_key,
        name=f"Portal {project_key}",
        ptype="service_desk",
        template_name="com.atlassian.servicedesk:simplified-external-service-desk",
        issueSecurityScheme=0,
        url="https://platform.example/jobs/j1",
    )
    assert created["key"] == project_key and isinstance(created["id"], int)
    assert j.project(project_key).raw["url"] == "https://platform.example/jobs/j1"
    desk = next(d for d in j.service_desks() if d.raw["projectKey"] == project_key)
    assert j.service_desk(desk.id).raw["projectId"] == str(created["id"])

    made = desk_call(
        j,
        "POST",
        f"servicedesk/{desk.id}/requesttype",
        {"name": "Get help", "issueTypeId": "10001", "description": "", "helpText": ""},
    )
    assert [t.name for t in j.request_types(desk.id)] == ["Get help"]
    assert made["serviceDeskId"] == str(desk.id)
    org = desk_call(j, "POST", "organization", {"name": f"{project_key} customers"})
    desk_call(j, "POST", f"servicedesk/{desk.id}/organization", {"organizationId": int(org["id"])})
    listed = desk_call(j, "GET", f"servicedesk/{desk.id}/organization")
    assert [o["id"] for o in listed["values"]] == [org["id"]]

    assert j.delete_project(project_key, enable_undo=False)
    with pytest.raises(JIRAError) as gone:
        j.project(project_key)
    assert gone.value.status_code == 404
    assert "No project could be found" in gone.value.text


def test_refusals_use_jiras_error_shapes(localcloud):
    j = client(localcloud)
    with pytest.raises(JIRAError) as bad:
        j.create_project("lower", name="x", ptype="service_desk", issueSecurityScheme=0)
    assert bad.value.status_code == 400
    body = bad.value.response.json()
    assert set(body) == {"errorMessages", "errors"} and "projectKey" in body["errors"]
    answer = requests.get(
        f"{localcloud.url}/jira/rest/servicedeskapi/servicedesk/999", auth=("a", "b")
    )
    assert answer.status_code == 404 and "errorMessage" in answer.json()
    anonymous = requests.get(f"{localcloud.url}/jira/rest/api/2/myself")
    assert anonymous.status_code == 401 and anonymous.json()["errorMessages"]


def test_faults_apply_to_jira_and_state_survives_a_restart(tmp_path):
    cloud = LocalCloud.start(tmp_path / "state", lro_delay=0.0)
    project_key = key()
    try:
        j = client(cloud)
        # This cloud is the test's own; the project's key is only in the create's body.
        fault = cloud.inject_fault(
            fail_next=1,
            code=503,
            method="POST",
            path_contains="/jira/rest/api/2/project",
            body_contains=f'"{project_key}"',
        )
        with pytest.raises(JIRAError) as outage:
            j.create_project(project_key, name="p", issueSecurityScheme=0)
        assert outage.value.status_code == 503
        assert cloud.fired(fault) == 1
        j.create_project(project_key, name="p", issueSecurityScheme=0)
    finally:
        cloud.stop()
    cloud = LocalCloud.start(tmp_path / "state", lro_delay=0.0)
    try:
        assert client(cloud).project(project_key).key == project_key
    finally:
        cloud.stop()
