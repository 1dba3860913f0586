"""The customers API's answers: reads, the partial update, and the refusals (409 taken prefix, 400
malformed input, 404 unknown customer) that start no job and change nothing."""

from __future__ import annotations

import uuid

from contracts.provisioning.customers import CustomerNames
from providers.litellm import litellm_admin
from temporal import search_attributes as sa
from tests.helpers.customers import BASE, create, new_prefix
from tests.helpers.faults import wait_until_fired
from tests.helpers.platform import wait_for_job


async def jobs_of(client, operation: str, prefix: str | None = None) -> list[str]:
    query = f"{sa.OPERATION.name} = '{operation}'"
    if prefix:
        query += f" AND {sa.LABELS.name} = 'customer={prefix}'"
    return [w.id async for w in client.list_workflows(query)]


async def test_a_taken_prefix_is_a_409_and_starts_no_job(api, client):
    prefix = new_prefix()
    first = await create(api, prefix)
    assert (await wait_for_job(api, first["job_id"]))["status"] == "completed"
    again = await api.post(
        BASE,
        json={
            "prefix": prefix,
            "name": "Other",
            "email": "x@other.example",
            "create_jira_portal": True,
        },
    )
    assert again.status_code == 409, again.text
    assert again.json()["error"]["details"] == {"field": "prefix"}
    assert await jobs_of(client, "onboard_customer", prefix) == [first["job_id"]]
    record = (await api.get(f"{BASE}/prefix/{prefix}")).json()
    assert record["name"] == f"Customer {prefix}" and record["provisioning"]["jira"] is None


async def test_a_prefix_ambiguous_with_another_customers_is_a_409_and_starts_no_job(api, client):
    base = new_prefix()
    first = await create(api, f"{base}-ab")
    assert (await wait_for_job(api, first["job_id"]))["status"] == "completed"
    # `{base}-ab`'s agent `cd-zenml` would be `{base}-ab-cd`'s ZenML server; `{base}`'s agent
    # `ab-x` would be `{base}-ab`'s agent `x`; the last one derives `{base}-ab`'s Jira key.
    for prefix in (f"{base}-ab-cd", base, f"{base[:3]}-{base[3:]}-ab"):
        answer = await api.post(
            BASE, json={"prefix": prefix, "name": "Other", "email": "x@other.example"}
        )
        assert answer.status_code == 409, (prefix, answer.text)
        assert answer.json()["error"]["details"] == {
            "field": "prefix",
            "conflicts_with": f"{base}-ab",
        }
        assert await jobs_of(client, "onboard_customer", prefix) == []
        assert (await api.get(f"{BASE}/prefix/{prefix}")).status_code == 404


async def test_a_repeated_post_with_its_idempotency_key_returns_the_same_job(api):
    prefix = new_prefix()
    body = {"prefix": prefix, "name": "Idem", "email": "a@idem.example"}
    headers = {"Idempotency-Key": f"onboard-{prefix}"}
    first = await api.post(BASE, json=body, headers=headers)
    second = await api.post(BASE, json=body, headers=headers)
    assert first.status_code == second.status_code == 201, second.text
    assert first.json()["job_id"] == second.json()["job_id"]
    assert first.json()["id"] == second.json()["id"]


async def test_malformed_input_is_a_400_that_changes_nothing(api, client):
    before = await jobs_of(client, "offboard_customer")
    for path in (f"{BASE}/not-a-uuid", f"{BASE}/not-a-uuid/portal", f"{BASE}/1234/services"):
        answer = await api.get(path)
        assert answer.status_code == 400, (path, answer.text)
        assert answer.json()["error"]["code"] == "validation_error"
    assert (await api.delete(f"{BASE}/not-a-uuid")).status_code == 400
    assert (await api.put(f"{BASE}/not-a-uuid", json={"name": "x"})).status_code == 400
    for body in (
        {"prefix": "A", "name": "n", "email": "a@b.example"},
        {"prefix": "-bad", "name": "n", "email": "a@b.example"},
        {"prefix": "toolongprefix-abcdefgh", "name": "n", "email": "a@b.example"},
        {"prefix": "okay", "name": "n", "email": "not-an-email"},
        {"prefix": "okay", "name": "n", "email": "a@b.example", "create_zenml": "yes"},
        {"prefix": "okay", "name": "n", "email": "a@b.example", "surprise": 1},
    ):
        answer = await api.post(BASE, json=body)
        assert answer.status_code == 400, (body, answer.text)
    assert (await api.get(f"{BASE}/prefix/okay")).status_code == 404
    assert await jobs_of(client, "onboard_customer", "okay") == []
    assert await jobs_of(client, "offboard_customer") == before


async def test_an_unknown_customer_is_a_404_and_delete_starts_no_job(api, client):
    before = await jobs_of(client, "offboard_customer")
    unknown = uuid.uuid4()
    for path in (f"{BASE}/{unknown}", f"{BASE}/{unknown}/portal", f"{BASE}/{unknown}/services"):
        assert (await api.get(path)).status_code == 404, path
    assert (await api.get(f"{BASE}/prefix/{new_prefix()}")).status_code == 404
    assert (await api.put(f"{BASE}/{unknown}", json={"name": "x"})).status_code == 404
    assert (await api.delete(f"{BASE}/{unknown}")).status_code == 404
    assert await jobs_of(client, "offboard_customer") == before


async def test_reads_update_and_portal_of_a_customer_without_provisionings(api):
    prefix = new_prefix()
    created = await create(api, prefix)
    customer_id = created["id"]
    assert (await wait_for_job(api, created["job_id"]))["status"] == "completed"
    assert created["provisioning"] == {"jira": None, "litellm": None, "zenml": None}
    assert (await api.get(f"{BASE}/{customer_id}/portal")).status_code == 404
    assert (await api.get(f"{BASE}/{customer_id}/services")).json()["services"] == []

    updated = await api.put(f"{BASE}/{customer_id}", json={"jira_sd_id": "77", "name": "Renamed"})
    assert updated.status_code == 200, updated.text
    assert updated.json()["name"] == "Renamed" and updated.json()["email"] == created["email"]
    portal = (await api.get(f"{BASE}/{customer_id}/portal")).json()
    assert portal["portal_url"].endswith("/servicedesk/customer/portal/77")
    assert (await api.put(f"{BASE}/{customer_id}", json={"name": None})).status_code == 400
    assert (await api.put(f"{BASE}/{customer_id}", json={"prefix": "other"})).status_code == 400

    listed = (await api.get(BASE)).json()
    assert customer_id in {c["id"] for c in listed}
    assert (await api.get(f"{BASE}/prefix/{prefix}")).json()["id"] == customer_id
    assert (await api.delete(f"{BASE}/{customer_id}")).status_code == 204
    active = (await api.get(BASE, params={"active_only": "true"})).json()
    assert customer_id not in {c["id"] for c in active}


async def test_offboarding_removes_the_litellm_user_the_record_names(api, settings):
    """A customer whose record names a LiteLLM user of its own (set by PUT, carrying the
    customer's mark) loses that user, not only the one named by rule."""
    prefix = new_prefix()
    created = await create(api, prefix)
    user_id = f"{prefix}-own-user"
    admin = litellm_admin(settings)
    await admin.create_user(
        user_id, user_email=f"{prefix}@example.com", metadata={"customer": prefix}
    )
    changed = await api.put(f"{BASE}/{created['id']}", json={"litellm_user_id": user_id})
    assert changed.status_code == 200, changed.text
    assert (await api.delete(f"{BASE}/{created['id']}")).status_code == 204
    assert await admin.user(user_id) is None


async def test_a_key_repeated_after_its_onboarding_was_cancelled_is_a_409(api, clean_faults):
    prefix = new_prefix()
    body = {"prefix": prefix, "name": "Late", "email": "a@late.example", "create_jira_portal": True}
    headers = {"Idempotency-Key": f"late-{prefix}"}
    # Jira answers this customer's project slowly, so the cancel comes while the onboarding runs.
    project = CustomerNames(prefix).jira_project_key
    slow = clean_faults.inject_fault(
        fail_next=0, code=None, latency_ms=3000, path_contains=f"/jira/rest/api/2/project/{project}"
    )
    first = await api.post(BASE, json=body, headers=headers)
    assert first.status_code == 201, first.text
    await wait_until_fired(clean_faults, slow)
    assert (await api.post(f"/api/v1/jobs/{first.json()['job_id']}/cancel")).status_code < 300
    assert (await wait_for_job(api, first.json()["job_id"]))["status"] == "cancelled"
    again = await api.post(BASE, json=body, headers=headers)
    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"] == "idempotency_conflict"
    assert (await api.get(f"{BASE}/prefix/{prefix}")).status_code == 404


async def test_a_fresh_retry_of_a_cancelled_onboarding_is_refused_with_409(api, clean_faults):
    """The cancelled onboarding's compensation deleted the customer record it was started for: a
    fresh retry would provision for a customer that no longer exists, so it is refused (and not
    offered), and the answer says to create the customer again."""
    prefix = new_prefix()
    body = {"prefix": prefix, "name": "Gone", "email": "a@gone.example", "create_jira_portal": True}
    project = CustomerNames(prefix).jira_project_key
    slow = clean_faults.inject_fault(
        fail_next=0, code=None, latency_ms=3000, path_contains=f"/jira/rest/api/2/project/{project}"
    )
    first = await api.post(BASE, json=body)
    assert first.status_code == 201, first.text
    job_id = first.json()["job_id"]
    await wait_until_fired(clean_faults, slow)
    assert (await api.post(f"/api/v1/jobs/{job_id}/cancel")).status_code < 300
    job = await wait_for_job(api, job_id)
    assert job["status"] == "cancelled", job
    assert (await api.get(f"{BASE}/{first.json()['id']}")).status_code == 404
    assert job["actions"]["can_retry"] is False, job["actions"]

    for retry in ({"fresh": True}, None):
        refused = await api.post(f"/api/v1/jobs/{job_id}/retry", json=retry)
        assert refused.status_code == 409, refused.text
        error = refused.json()["error"]
        assert "create the customer again" in error["message"], error
        assert "POST /api/v1/customers" in error["message"], error
        assert error["details"] == {"status": "cancelled", "operation": "onboard_customer"}
    assert (await api.get(f"/api/v1/jobs/{job_id}")).json().get("retried_by") in (None, [])
    # Creating the customer again is the way: a new record and a new onboarding job.
    clean_faults.clear_faults()
    again = await api.post(BASE, json=body)
    assert again.status_code == 201, again.text
    assert again.json()["job_id"] != job_id
    assert (await wait_for_job(api, again.json()["job_id"], seconds=60))["status"] == "completed"
    assert (await api.delete(f"{BASE}/{again.json()['id']}")).status_code == 204
