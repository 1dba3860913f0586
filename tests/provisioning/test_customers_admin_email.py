"""A customer's admin email: unique among customers (LiteLLM keeps one user per email), and what a
LiteLLM step, a held step's retry and a fresh retry use is the record's email as it is when they
run, so a `PUT` that fixes the email is what the retried work provisions."""

from __future__ import annotations

import asyncio
import time
import uuid

from contracts.provisioning.customers import CustomerNames
from providers.litellm import litellm_admin
from tests.helpers.customers import BASE, create, footprint, new_prefix
from tests.helpers.job_controls import HOLD, held
from tests.helpers.platform import wait_for_job


async def _started(api, job_id: str, seconds: float = 30) -> None:
    """A branch's job exists once the onboarding starts it (its id is known before)."""
    deadline = time.monotonic() + seconds
    while (await api.get(f"/api/v1/jobs/{job_id}")).status_code == 404:
        assert time.monotonic() < deadline, f"{job_id} never started"
        await asyncio.sleep(0.2)


async def _someone_else_has(settings, email: str) -> str:
    """A LiteLLM user made outside the platform with `email`."""
    user_id = f"by-hand-{uuid.uuid4().hex[:8]}"
    await litellm_admin(settings).create_user(user_id, user_email=email)
    return user_id


async def test_a_second_customer_with_the_same_admin_email_is_refused_with_409(api):
    first = await create(api, new_prefix())
    email = first["email"].upper()
    prefix = new_prefix()
    body = {"prefix": prefix, "name": "Second", "email": email, "create_litellm": True}
    refused = await api.post(BASE, json=body)
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "email_taken"
    assert error["details"] == {"field": "email", "customer": first["prefix"]}
    assert (await api.get(f"{BASE}/prefix/{prefix}")).status_code == 404

    second = await create(api, prefix)
    moved = await api.put(f"{BASE}/{second['id']}", json={"email": first["email"]})
    assert moved.status_code == 409, moved.text
    assert moved.json()["error"]["code"] == "email_taken"
    # Its own email again is no conflict.
    same = await api.put(f"{BASE}/{first['id']}", json={"email": first["email"]})
    assert same.status_code == 200, same.text
    for customer in (first, second):
        assert (await api.delete(f"{BASE}/{customer['id']}")).status_code == 204


async def test_a_held_litellm_branch_retried_after_a_put_provisions_the_new_email(api, settings):
    prefix = new_prefix()
    taken = f"admin@{prefix}.example"
    other = await _someone_else_has(settings, taken)
    answer = await api.post(
        BASE,
        json={"prefix": prefix, "name": "Held", "email": taken, "create_litellm": True},
        headers=HOLD,
    )
    assert answer.status_code == 201, answer.text
    created = answer.json()
    branch = created["provisioning_jobs"]["litellm"]["job_id"]

    # The branch's child job holds (the parent's failure policy), the parent waits for it.
    await _started(api, branch)
    job = await held(api, branch)
    assert job["status"] == "needs_attention", job
    assert f"another user with email {taken}" in job["root_cause"]["message"]
    assert (await api.get(f"/api/v1/jobs/{created['job_id']}")).json()["status"] == "running"

    fixed = f"it@{prefix}.example"
    assert (await api.put(f"{BASE}/{created['id']}", json={"email": fixed})).status_code == 200
    retried = await api.post(f"/api/v1/jobs/{branch}/retry", json={"comment": "email fixed"})
    assert retried.status_code == 202, retried.text
    job = await wait_for_job(api, created["job_id"], seconds=60)
    assert job["status"] == "completed", job
    assert job["result"]["provisionings"]["litellm"]["status"] == "ready", job
    user = await litellm_admin(settings).user(CustomerNames(prefix).litellm_user_id)
    assert user["user_email"] == fixed

    assert (await api.delete(f"{BASE}/{created['id']}")).status_code == 204
    assert (await footprint(settings, prefix)).empty
    assert await litellm_admin(settings).user(other) is not None
    await litellm_admin(settings).delete_users([other])


async def test_a_fresh_retry_of_the_litellm_branch_uses_the_email_the_record_has_now(api, settings):
    prefix = new_prefix()
    other = await _someone_else_has(settings, f"admin@{prefix}.example")
    created = await create(api, prefix, create_litellm=True)
    job = await wait_for_job(api, created["job_id"], seconds=60)
    litellm = job["result"]["provisionings"]["litellm"]
    assert litellm["status"] == "failed" and "another user with email" in litellm["reason"], job

    fixed = f"it@{prefix}.example"
    assert (await api.put(f"{BASE}/{created['id']}", json={"email": fixed})).status_code == 200
    again = await api.post(f"/api/v1/jobs/{litellm['job_id']}/retry", json={"fresh": True})
    assert again.status_code == 202, again.text
    retry = await wait_for_job(api, again.json()["new_job_id"], seconds=60)
    assert retry["status"] == "completed", retry
    user = await litellm_admin(settings).user(CustomerNames(prefix).litellm_user_id)
    assert user["user_email"] == fixed

    assert (await api.delete(f"{BASE}/{created['id']}")).status_code == 204
    assert (await footprint(settings, prefix)).empty
    await litellm_admin(settings).delete_users([other])
