"""Redis template against the real server at TEST_REDIS_URL."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
import redis.asyncio as aioredis

from providers.service_templates import (
    ExternalServiceError,
    InvalidOperationParams,
    ServiceConnection,
    get_template,
)
from providers.service_templates.redis_template import RedisTemplate

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

rt = RedisTemplate()


@pytest.fixture
def conn() -> ServiceConnection:
    return ServiceConnection(name="test-redis", type="redis", url=REDIS_URL)


@pytest.fixture
async def prefix():
    """A key namespace of this test's own, emptied afterwards."""
    value = f"cs-test:{uuid.uuid4().hex[:10]}:"
    yield value
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        async for key in client.scan_iter(match=f"{value}*"):
            await client.delete(key)
    finally:
        await client.aclose()


async def command_calls() -> dict[str, int]:
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        stats = await client.info("commandstats")
    finally:
        await client.aclose()
    return {
        name: int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ("keys", "scan")
    }


async def test_registry_gives_the_redis_template():
    assert isinstance(get_template("redis"), RedisTemplate)


async def test_health_is_healthy(conn):
    result = await rt.health_check(conn)
    assert result.status == "healthy", result.message
    assert result.details["version"]


async def test_set_get_delete(conn, prefix):
    key = f"{prefix}greeting"
    assert await rt.execute_operation(conn, "set_key", {"key": key, "value": "hola"}) == {
        "key": key,
        "set": True,
        "ttl_seconds": None,
    }
    got = await rt.execute_operation(conn, "get_key", {"key": key})
    assert got == {
        "key": key,
        "exists": True,
        "type": "string",
        "value": "hola",
        "ttl_seconds": None,
    }
    assert await rt.execute_operation(conn, "delete_key", {"key": key}) == {
        "key": key,
        "deleted": True,
    }
    assert await rt.execute_operation(conn, "delete_key", {"key": key}) == {
        "key": key,
        "deleted": False,
    }
    missing = await rt.execute_operation(conn, "get_key", {"key": key})
    assert missing["exists"] is False and missing["value"] is None


async def test_ttl_is_honoured(conn, prefix):
    key = f"{prefix}short-lived"
    await rt.execute_operation(conn, "set_key", {"key": key, "value": 42, "ttl_seconds": 1})
    got = await rt.execute_operation(conn, "get_key", {"key": key})
    assert got["value"] == "42" and got["ttl_seconds"] in (0, 1)
    await asyncio.sleep(1.3)
    assert (await rt.execute_operation(conn, "get_key", {"key": key}))["exists"] is False


async def test_get_key_reads_collections(conn, prefix):
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        await client.hset(f"{prefix}h", mapping={"a": "1", "b": "2"})
        await client.rpush(f"{prefix}l", *[str(i) for i in range(150)])
        await client.set(f"{prefix}bin", b"\xff\x00ok")
    finally:
        await client.aclose()
    h = await rt.execute_operation(conn, "get_key", {"key": f"{prefix}h"})
    assert h["type"] == "hash" and h["value"] == {"a": "1", "b": "2"} and h["truncated"] is False
    lst = await rt.execute_operation(conn, "get_key", {"key": f"{prefix}l"})
    assert lst["length"] == 150 and len(lst["value"]) == 100 and lst["truncated"] is True
    binary = await rt.execute_operation(conn, "get_key", {"key": f"{prefix}bin"})
    assert binary["value"] == "\\xff\x00ok"


async def test_list_keys_uses_scan_not_keys(conn, prefix):
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        await client.mset({f"{prefix}{i:03d}": i for i in range(150)})
    finally:
        await client.aclose()
    before = await command_calls()
    listed = await rt.execute_operation(conn, "list_keys", {"pattern": f"{prefix}*"})
    after = await command_calls()
    assert after["keys"] == before["keys"], "list_keys must never send KEYS"
    assert after["scan"] > before["scan"]
    assert len(listed["keys"]) == 100 and listed["truncated"] is True
    assert all(k.startswith(prefix) for k in listed["keys"])
    everything = await rt.execute_operation(
        conn, "list_keys", {"pattern": f"{prefix}*", "count": 1000}
    )
    assert everything["keys"] == [f"{prefix}{i:03d}" for i in range(150)]
    assert everything["truncated"] is False


async def test_get_info(conn):
    info = await rt.execute_operation(conn, "get_info")
    assert info["version"] and info["uptime_in_seconds"] >= 0
    assert info["connected_clients"] >= 1 and info["used_memory"] > 0
    assert isinstance(info["keyspace"], dict)


async def test_bad_params_name_the_field(conn, prefix):
    with pytest.raises(InvalidOperationParams) as info:
        await rt.execute_operation(conn, "set_key", {"key": f"{prefix}x", "value": "v", "ttl": 5})
    assert info.value.field == "ttl"
    with pytest.raises(InvalidOperationParams) as info:
        await rt.execute_operation(conn, "set_key", {"key": f"{prefix}x"})
    assert info.value.field == "value"
    with pytest.raises(InvalidOperationParams) as info:
        await rt.execute_operation(
            conn, "set_key", {"key": f"{prefix}x", "value": "v", "ttl_seconds": 0}
        )
    assert info.value.field == "ttl_seconds"
    with pytest.raises(InvalidOperationParams) as info:
        await rt.execute_operation(conn, "list_keys", {"count": 5000})
    assert info.value.field == "count"


async def test_unreachable_server_is_unhealthy_without_the_password():
    secret = f"S3cret-{uuid.uuid4().hex}"
    closed = ServiceConnection(
        name="redis-closed",
        type="redis",
        url="redis://127.0.0.1:1/0",
        credentials={"password": secret},
    )
    health = await rt.health_check(closed)
    assert health.status == "unhealthy" and "127.0.0.1:1" in health.message
    assert secret not in health.model_dump_json()
    with pytest.raises(ExternalServiceError) as info:
        await rt.execute_operation(closed, "get_key", {"key": "k"})
    assert secret not in str(info.value)


async def test_credentials_are_checked_with_an_acl_user():
    user = f"cs_test_{uuid.uuid4().hex[:8]}"
    password = f"right-{uuid.uuid4().hex}"
    wrong = f"wrong-{uuid.uuid4().hex}"
    admin = aioredis.Redis.from_url(REDIS_URL)
    await admin.acl_setuser(
        user, enabled=True, passwords=[f"+{password}"], keys="*", commands=["+@all"]
    )
    try:
        good = ServiceConnection(
            name="redis-acl",
            type="redis",
            url=REDIS_URL,
            credentials={"username": user, "password": password},
        )
        assert (await rt.health_check(good)).status == "healthy"
        bad = good.model_copy(update={"credentials": {"username": user, "password": wrong}})
        health = await rt.health_check(bad)
        assert health.status == "unhealthy" and "rejected the credentials" in health.message
        assert wrong not in health.model_dump_json()
        # A password in the URL loses to the credential from Secret Manager.
        in_url = good.model_copy(
            update={"url": REDIS_URL.replace("redis://", f"redis://{user}:{wrong}@")}
        )
        assert (await rt.health_check(in_url)).status == "healthy"
    finally:
        await admin.acl_deluser(user)
        await admin.aclose()
