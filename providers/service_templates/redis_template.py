"""Redis template (redis.asyncio): server info and key reads/writes, listing keys with SCAN."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis
import redis.exceptions

from providers.service_templates.base import ExternalServiceTemplate, Health
from providers.service_templates.errors import (
    AuthenticationFailed,
    ExternalServiceError,
    InvalidOperationParams,
    redact,
)
from providers.service_templates.params import Params
from providers.service_templates.types import ExternalServiceType, ServiceConnection

CONNECT_TIMEOUT_SECONDS = 3.0
SOCKET_TIMEOUT_SECONDS = 10.0
DEFAULT_LIST_COUNT = 100
MAX_LIST_COUNT = 1000
# Elements returned from one hash/list/set/zset by get_key.
MAX_ELEMENTS = 100
MAX_KEY_LENGTH = 10_000
MAX_TTL_SECONDS = 10 * 365 * 24 * 3600
_INFO_FIELDS = (
    "redis_version",
    "redis_mode",
    "uptime_in_seconds",
    "connected_clients",
    "used_memory",
    "used_memory_human",
    "maxmemory",
    "role",
)


def _client_url(conn: ServiceConnection) -> tuple[str, dict[str, str]]:
    """The URL and auth kwargs; credentials override the URL's userinfo.

    redis-py lets URL options override keyword arguments, so a password from Secret Manager
    only wins if the URL's own userinfo is removed first.
    """
    url = conn.credentials.get("connection_string") or conn.url
    if not url:
        raise InvalidOperationParams(f"service {conn.name!r} has no URL", field="url")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InvalidOperationParams("invalid Redis URL", field="url") from None
    if not RedisTemplate.accepts_url_scheme(parts.scheme):
        raise InvalidOperationParams("Redis URL must start with redis:// or rediss://", field="url")
    auth: dict[str, str] = {}
    if conn.credentials.get("password"):
        auth["password"] = conn.credentials["password"]
        if conn.credentials.get("username"):
            auth["username"] = conn.credentials["username"]
        netloc = parts.netloc.rpartition("@")[2]
        url = urlunsplit(parts._replace(netloc=netloc))
    return url, auth


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}"


def _text(value: bytes | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    # Values need not be UTF-8; backslash escapes keep them readable and JSON-safe.
    return value.decode("utf-8", errors="backslashreplace")


class RedisTemplate(ExternalServiceTemplate):
    service_type = ExternalServiceType.REDIS
    url_schemes = ("redis", "rediss")
    operations = ("get_info", "get_key", "set_key", "delete_key", "list_keys")

    @asynccontextmanager
    async def _client(
        self, conn: ServiceConnection, *, connect_timeout: float = CONNECT_TIMEOUT_SECONDS
    ) -> AsyncIterator[aioredis.Redis]:
        url, auth = _client_url(conn)
        where = _where(url)
        client = aioredis.Redis.from_url(
            url,
            **auth,
            socket_connect_timeout=connect_timeout,
            socket_timeout=SOCKET_TIMEOUT_SECONDS,
            decode_responses=False,
            retry_on_timeout=False,
        )
        try:
            yield client
        except redis.exceptions.AuthenticationError:
            raise AuthenticationFailed(f"Redis at {where} rejected the credentials") from None
        except redis.exceptions.ResponseError as e:
            if "NOAUTH" in str(e) or "WRONGPASS" in str(e):
                raise AuthenticationFailed(f"Redis at {where} rejected the credentials") from None
            raise ExternalServiceError(
                redact(f"Redis error: {e}", conn.secret_values()), retryable=False
            ) from None
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
            raise ExternalServiceError(
                f"cannot connect to Redis at {where}: connection refused or unreachable"
            ) from None
        except redis.exceptions.RedisError as e:
            raise ExternalServiceError(redact(f"Redis error: {e}", conn.secret_values())) from None
        finally:
            await client.aclose()

    async def probe(self, conn: ServiceConnection) -> Health:
        async with self._client(conn, connect_timeout=self.health_timeout - 1) as r:
            await r.ping()
            info = await r.info("server")
        version = info.get("redis_version", "unknown")
        return Health(
            "healthy",
            f"Redis {version} answered PING",
            {"version": version, "uptime_in_seconds": info.get("uptime_in_seconds")},
        )

    async def op_get_info(self, conn: ServiceConnection, params: Params) -> dict[str, Any]:
        params.finish()
        async with self._client(conn) as r:
            info = await r.info()
        result: dict[str, Any] = {
            k: _text(info[k]) if isinstance(info.get(k), bytes) else info.get(k)
            for k in _INFO_FIELDS
        }
        result["version"] = result.pop("redis_version")
        result["keyspace"] = {
            k: v for k, v in info.items() if k.startswith("db") and isinstance(v, dict)
        }
        return result

    async def op_get_key(self, conn: ServiceConnection, params: Params) -> dict[str, Any]:
        key = params.required_string("key", max_length=MAX_KEY_LENGTH)
        params.finish()
        async with self._client(conn) as r:
            kind = _text(await r.type(key))
            if kind == "none":
                return {
                    "key": key,
                    "exists": False,
                    "type": None,
                    "value": None,
                    "ttl_seconds": None,
                }
            value, length = await self._read_value(r, key, kind)
            ttl = await r.ttl(key)
        result: dict[str, Any] = {
            "key": key,
            "exists": True,
            "type": kind,
            "value": value,
            # TTL is -1 for a key without expiry (and -2 if it vanished meanwhile).
            "ttl_seconds": ttl if ttl >= 0 else None,
        }
        if length is not None:
            result["length"] = length
            result["truncated"] = length > MAX_ELEMENTS
        return result

    @staticmethod
    async def _read_value(r: aioredis.Redis, key: str, kind: str | None) -> tuple[Any, int | None]:
        if kind == "string":
            return _text(await r.get(key)), None
        if kind == "list":
            items = await r.lrange(key, 0, MAX_ELEMENTS - 1)
            return [_text(v) for v in items], await r.llen(key)
        if kind == "hash":
            fields: dict[str, Any] = {}
            async for field, v in r.hscan_iter(key, count=MAX_ELEMENTS):
                fields[_text(field)] = _text(v)
                if len(fields) >= MAX_ELEMENTS:
                    break
            return fields, await r.hlen(key)
        if kind == "set":
            members: list[str | None] = []
            async for m in r.sscan_iter(key, count=MAX_ELEMENTS):
                members.append(_text(m))
                if len(members) >= MAX_ELEMENTS:
                    break
            return sorted(members, key=str), await r.scard(key)
        if kind == "zset":
            pairs = await r.zrange(key, 0, MAX_ELEMENTS - 1, withscores=True)
            return [[_text(m), s] for m, s in pairs], await r.zcard(key)
        # Streams and module types have no one obvious JSON form; say so instead of guessing.
        return None, None

    async def op_set_key(self, conn: ServiceConnection, params: Params) -> dict[str, Any]:
        key = params.required_string("key", max_length=MAX_KEY_LENGTH)
        value = params.raw("value")
        if value is None:
            raise InvalidOperationParams("missing required parameter 'value'", field="value")
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise InvalidOperationParams(
                "parameter 'value' must be a string or a number", field="value"
            )
        ttl = params.integer("ttl_seconds", minimum=1, maximum=MAX_TTL_SECONDS)
        params.finish()
        async with self._client(conn) as r:
            await r.set(key, str(value), ex=ttl)
        return {"key": key, "set": True, "ttl_seconds": ttl}

    async def op_delete_key(self, conn: ServiceConnection, params: Params) -> dict[str, Any]:
        key = params.required_string("key", max_length=MAX_KEY_LENGTH)
        params.finish()
        async with self._client(conn) as r:
            deleted = await r.delete(key)
        return {"key": key, "deleted": bool(deleted)}

    async def op_list_keys(self, conn: ServiceConnection, params: Params) -> dict[str, Any]:
        pattern = params.string("pattern", required=False, default="*", max_length=MAX_KEY_LENGTH)
        count = params.integer(
            "count", default=DEFAULT_LIST_COUNT, minimum=1, maximum=MAX_LIST_COUNT
        )
        params.finish()
        assert count is not None and pattern is not None
        # SCAN, never KEYS: KEYS blocks the whole server while it walks every key.
        keys: dict[str, None] = {}  # SCAN may return a key twice; a dict dedups in order.
        cursor = 0
        complete = False
        async with self._client(conn) as r:
            while True:
                cursor, batch = await r.scan(cursor=cursor, match=pattern, count=max(count, 100))
                for k in batch:
                    keys[_text(k) or ""] = None
                if cursor == 0:
                    complete = True
                    break
                if len(keys) >= count:
                    break
        names = sorted(keys)
        return {
            "pattern": pattern,
            "keys": names[:count],
            "truncated": len(names) > count or not complete,
        }
