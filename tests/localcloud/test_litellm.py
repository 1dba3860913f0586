"""The LiteLLM proxy admin API on the local cloud, at the wire level (httpx, as the platform calls it)
and through providers/litellm.py."""

from __future__ import annotations

import uuid

import httpx
import pytest
from temporalio.exceptions import ApplicationError

from core.settings import Settings
from localcloud.apis.litellm import MASTER_KEY, SEEDED_PROMPTS
from localcloud.testing import LocalCloud
from providers.litellm import litellm_admin
from providers.tls import client_context


@pytest.fixture
def proxy(localcloud):
    with httpx.Client(
        verify=client_context(),
        base_url=f"{localcloud.url}/litellm",
        headers={"Authorization": f"Bearer {MASTER_KEY}"},
        timeout=10,
    ) as http:
        yield http


@pytest.fixture
async def admin(localcloud):
    return litellm_admin(Settings(litellm_base_url=f"{localcloud.url}/litellm"))


def _name(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex[:8]}"


def test_the_default_master_key_is_the_emulators():
    assert Settings().litellm_master_key.get_secret_value() == MASTER_KEY


def test_auth_errors_use_the_proxy_exception_shape(localcloud, proxy):
    anonymous = httpx.get(f"{localcloud.url}/litellm/key/list", timeout=10, verify=client_context())
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["type"] == "auth_error"
    assert anonymous.json()["error"]["code"] == "401"
    wrong = httpx.post(
        f"{localcloud.url}/litellm/user/new",
        headers={"x-litellm-api-key": "sk-not-a-key"},
        json={},
        timeout=10,
        verify=client_context(),
    )
    assert wrong.status_code == 401 and "Authentication Error" in wrong.json()["error"]["message"]
    ready = httpx.get(
        f"{localcloud.url}/litellm/health/readiness", timeout=10, verify=client_context()
    )
    assert ready.status_code == 200 and ready.json()["status"] == "healthy"
    assert (
        httpx.get(f"{localcloud.url}/litellm/health/liveliness", verify=client_context()).json()
        == "I'm alive!"
    )


def test_users_keys_and_their_documented_errors(proxy):
    user_id = _name("user")
    created = proxy.post("/user/new", json={"user_id": user_id, "user_email": f"{user_id}@x.io"})
    assert created.status_code == 200
    assert created.json()["key"].startswith("sk-") and created.json()["user_id"] == user_id
    assert proxy.post("/user/new", json={"user_id": _name("u"), "password": "x"}).status_code == 422
    again = proxy.post("/user/new", json={"user_id": user_id})
    assert again.status_code == 400 and "already exists" in again.json()["detail"]["error"]

    alias = _name("alias")
    generated = proxy.post("/key/generate", json={"key_alias": alias, "user_id": user_id}).json()
    key = generated["key"]
    assert key.startswith("sk-") and generated["token"] != key
    duplicate = proxy.post("/key/generate", json={"key_alias": alias})
    assert duplicate.status_code == 400
    assert duplicate.json()["error"]["param"] == "key_alias"
    info = proxy.get("/key/info", params={"key": key}).json()
    assert info["key"] == key and info["info"]["key_alias"] == alias
    assert "token" not in info["info"]
    # A virtual key reads its own info with no `key` parameter, but may not administer.
    own = httpx.get(
        f"{str(proxy.base_url).rstrip('/')}/key/info",
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
        verify=client_context(),
    )
    assert own.status_code == 200 and own.json()["info"]["key_alias"] == alias
    refused = httpx.post(
        f"{str(proxy.base_url).rstrip('/')}/user/delete",
        headers={"Authorization": f"Bearer {key}"},
        json={"user_ids": [user_id]},
        timeout=10,
        verify=client_context(),
    )
    assert refused.status_code == 401

    listed = proxy.get("/key/list", params={"user_id": user_id, "return_full_object": "true"})
    assert {k["key_alias"] for k in listed.json()["keys"]} >= {alias}
    assert all("key" not in k for k in listed.json()["keys"])

    partial = proxy.post("/key/delete", json={"keys": [key, "sk-unknown"]})
    assert partial.status_code == 400
    gone = proxy.get("/key/info", params={"key": key})
    assert (
        gone.status_code == 404 and gone.json()["error"]["message"] == "Key not found in database"
    )

    assert proxy.post("/user/delete", json={"user_ids": [user_id]}).json() == 1
    unknown = proxy.post("/user/delete", json={"user_ids": [user_id]})
    assert unknown.status_code == 404 and "User not found" in unknown.json()["detail"]["error"]
    assert proxy.get("/key/list", params={"user_id": user_id}).json()["total_count"] == 0


def test_prompts_are_seeded_and_filtered_by_a_keys_metadata(proxy):
    prompts = proxy.get("/prompts/list").json()["prompts"]
    assert {p["prompt_id"] for p in prompts} >= set(SEEDED_PROMPTS)
    assert prompts[0]["prompt_info"]["prompt_type"] == "config"
    one = next(iter(SEEDED_PROMPTS))
    key = proxy.post("/key/generate", json={"metadata": {"prompts": [one]}}).json()["key"]
    seen = httpx.get(
        f"{str(proxy.base_url).rstrip('/')}/prompts/list",
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
        verify=client_context(),
    )
    assert [p["prompt_id"] for p in seen.json()["prompts"]] == [one]


async def test_provider_is_idempotent_where_the_platform_needs_it(admin):
    user_id = _name("user")
    first = await admin.create_user(user_id, user_email=f"{user_id}@x.io", metadata={"a": "b"})
    assert first["user_id"] == user_id and "key" not in first
    assert (await admin.create_user(user_id))["user_id"] == user_id
    alias = _name("alias")
    generated = await admin.generate_key(key_alias=alias, user_id=user_id, metadata={"job": "j"})
    assert generated.key.startswith("sk-") and generated.key not in repr(generated)
    found = await admin.find_key_by_alias(alias)
    assert found is not None and found.token == generated.token and found.metadata == {"job": "j"}
    assert [k.key_alias for k in await admin.list_user_keys(user_id)] == [alias]
    assert await admin.delete_keys(key_aliases=[alias, "never-existed"]) == 1
    assert await admin.find_key_by_alias(alias) is None
    assert await admin.delete_keys(keys=[generated.key]) == 0
    assert await admin.delete_users([user_id, "never-existed"]) == [user_id]
    assert await admin.delete_users([user_id]) == []
    assert {p.prompt_id for p in await admin.list_prompts()} >= set(SEEDED_PROMPTS)
    assert await admin.ready()


async def test_provider_maps_refusals_as_final_and_outages_as_retryable(admin, clean_faults):
    alias = _name("alias")
    await admin.generate_key(key_alias=alias)
    with pytest.raises(ApplicationError) as duplicate:
        await admin.generate_key(key_alias=alias)
    assert duplicate.value.non_retryable and duplicate.value.type == "InvalidArgument"
    assert "already exists" in duplicate.value.message
    # No job lists prompts: the listing is this test's own.
    fault = clean_faults.inject_fault(
        fail_next=1, code=503, method="GET", path_contains="/litellm/prompts"
    )
    with pytest.raises(ApplicationError) as outage:
        await admin.list_prompts()
    assert clean_faults.fired(fault) == 1
    assert not outage.value.non_retryable and "503" in outage.value.message
    assert "127.0.0.1" not in outage.value.message
    wrong = litellm_admin(
        Settings(litellm_base_url=str(admin.http.base_url), litellm_master_key="sk-wrong")
    )
    with pytest.raises(ApplicationError) as refused:
        await wrong.list_prompts()
    assert refused.value.type == "Unauthenticated" and "sk-" not in refused.value.message
    await admin.delete_keys(key_aliases=[alias])


def test_users_and_keys_survive_a_restart(tmp_path):
    cloud = LocalCloud.start(tmp_path / "state", lro_delay=0.0)
    headers = {"Authorization": f"Bearer {MASTER_KEY}"}
    try:
        http = httpx.Client(
            verify=client_context(), base_url=f"{cloud.url}/litellm", headers=headers, timeout=10
        )
        http.post("/user/new", json={"user_id": "kept", "auto_create_key": False})
        key = http.post("/key/generate", json={"key_alias": "kept-key"}).json()["key"]
    finally:
        cloud.stop()
    cloud = LocalCloud.start(tmp_path / "state", lro_delay=0.0)
    try:
        http = httpx.Client(
            verify=client_context(), base_url=f"{cloud.url}/litellm", headers=headers, timeout=10
        )
        assert http.get("/user/info", params={"user_id": "kept"}).status_code == 200
        assert http.get("/key/info", params={"key": key}).json()["info"]["key_alias"] == "kept-key"
    finally:
        cloud.stop()
