"""IAM Admin v1 service accounts on the local cloud, driven by the real REST client
(`googleapiclient` through `providers.google.service_accounts`), and a secret's IAM policy granted
through the real Secret Manager client."""

from __future__ import annotations

import json
import re
import time

import httplib2
import pytest
from google.api_core import exceptions

from localcloud.testing import LocalCloud
from providers.google.secret_manager import ACCESSOR_ROLE, SecretStore
from providers.google.service_accounts import ServiceAccounts, owner_description
from tests.localcloud import unique


@pytest.fixture
def accounts(localcloud_settings) -> ServiceAccounts:
    return ServiceAccounts(localcloud_settings)


def _id() -> str:
    return unique("sa")  # `sa-` and 8 hex digits: 11 characters


def test_create_get_delete_round_trip(accounts, localcloud_settings):
    account_id = _id()
    project = localcloud_settings.gcp_project
    email = accounts.create(account_id, "Runtime", owner_description("job-1"))
    assert email == f"{account_id}@{project}.iam.gserviceaccount.com"

    found = accounts.get(email)
    assert found is not None
    assert found.name == f"projects/{project}/serviceAccounts/{email}"
    assert re.fullmatch(r"[1-9]\d{20}", found.unique_id)
    assert found.display_name == "Runtime"
    assert found.made_by("job-1") and not found.made_by("job-2")

    assert accounts.delete(email) is True
    assert accounts.get(email) is None
    assert accounts.delete(email) is False


def test_the_answer_has_the_real_fields(localcloud):
    account_id = _id()
    http = httplib2.Http()
    body = json.dumps({"accountId": account_id, "serviceAccount": {"displayName": "d"}})
    response, content = http.request(
        f"{localcloud.url}/v1/projects/p1/serviceAccounts?alt=json", "POST", body=body
    )
    assert response.status == 200, content
    account = json.loads(content)
    assert set(account) == {
        "name",
        "projectId",
        "uniqueId",
        "email",
        "displayName",
        "etag",
        "oauth2ClientId",
    }
    assert account["projectId"] == "p1" and account["oauth2ClientId"] == account["uniqueId"]
    # Get by `-` and by unique id, as the real API allows.
    for key in (account["email"], account["uniqueId"]):
        response, _ = http.request(f"{localcloud.url}/v1/projects/-/serviceAccounts/{key}")
        assert response.status == 200


def test_a_taken_id_is_returned_only_to_its_own_job(accounts):
    account_id = _id()
    email = accounts.create(account_id, "Runtime", owner_description("job-a"))
    # A retry of the same job adopts it; another job is refused (409 ALREADY_EXISTS).
    assert accounts.create(account_id, "Runtime", owner_description("job-a")) == email
    with pytest.raises(exceptions.AlreadyExists):
        accounts.create(account_id, "Runtime", owner_description("job-b"))
    assert accounts.delete(email)


@pytest.mark.parametrize(
    "account_id", ["short", "x" * 31, "1starts-with-digit", "ends-with-dash-", "Upper-case"]
)
def test_invalid_account_ids_are_refused(accounts, account_id):
    with pytest.raises(exceptions.BadRequest) as raised:
        accounts.create(account_id, "Runtime", "d")
    assert "account ID" in str(raised.value.message)


def test_errors_come_in_googles_envelope(localcloud):
    response, content = httplib2.Http().request(
        f"{localcloud.url}/v1/projects/p1/serviceAccounts/nobody@p1.iam.gserviceaccount.com"
    )
    assert response.status == 404
    error = json.loads(content)["error"]
    assert error["code"] == 404 and error["status"] == "NOT_FOUND" and error["message"]


def test_faults_and_the_request_counter_cover_iam(clean_faults, accounts):
    email = f"{unique('anyone')}@p.iam.gserviceaccount.com"
    outage = clean_faults.inject_fault(
        fail_next=1, code=503, path_contains=f"/serviceAccounts/{email}"
    )
    with pytest.raises(exceptions.ServiceUnavailable):
        accounts.get(email)
    assert accounts.get(email) is None
    assert clean_faults.fired(outage) == 1
    assert clean_faults.request_count(method="GET", path_contains=f"/serviceAccounts/{email}") == 2


def test_accounts_survive_a_restart(tmp_path):
    from core.settings import Settings

    cloud = LocalCloud.start(tmp_path / "state", lro_delay=0.0)
    try:
        email = ServiceAccounts(Settings(iam_endpoint=cloud.url)).create(_id(), "kept", "")
    finally:
        cloud.stop()
    cloud = LocalCloud.start(tmp_path / "state", lro_delay=0.0)
    try:
        assert ServiceAccounts(Settings(iam_endpoint=cloud.url)).get(email) is not None
    finally:
        cloud.stop()


def test_grant_accessor_adds_the_member_once(localcloud_settings):
    store = SecretStore(localcloud_settings)
    name = unique("granted")
    store.create(name, "value", {})
    member = "serviceAccount:zenml-x@p.iam.gserviceaccount.com"
    other = "serviceAccount:other@p.iam.gserviceaccount.com"
    assert store.grant_accessor(name, member) is True
    assert store.grant_accessor(name, member) is False
    assert store.grant_accessor(name, other) is True
    assert store.accessors(name) == [member, other]
    policy = store.client.get_iam_policy(request={"resource": store.path(name)})
    assert [b.role for b in policy.bindings] == [ACCESSOR_ROLE]
    assert store.delete(name)


def test_a_create_after_the_server_dropped_the_idle_connection_succeeds(accounts):
    """The client keeps its connection; the server closes it once idle (uvicorn after 5 s, Google
    after minutes). httplib2 sends a GET again on a fresh one, a POST not: the provider must."""
    accounts.get(f"{_id()}@p.iam.gserviceaccount.com")  # opens the connection
    time.sleep(6)
    email = accounts.create(_id(), "after idle", owner_description("job-idle"))
    assert accounts.get(email) is not None
