"""The assistant API's rate limit per caller (seed 002: 60 per minute) with `limits.aio`, in memory
or in Redis shared by every API process, and its `X-RateLimit-*` headers."""

from __future__ import annotations

import hashlib
import math
import time

import structlog
from limits import parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from starlette.requests import Request

from api.errors import ApiError
from core.settings import Settings

log = structlog.get_logger(__name__)
_NAMESPACE = "assistant"


class AssistantLimiter:
    def __init__(self, settings: Settings) -> None:
        self.limit = parse(settings.assistant_rate_limit)
        url = settings.assistant_rate_limit_storage_url
        storage: Storage
        if url.startswith(("redis://", "rediss://")):
            storage = RedisStorage(
                url.replace("redis", "async+redis", 1),
                implementation="redispy",
                key_prefix="conneskills-assistant",
            )
        else:
            storage = MemoryStorage()
        self.limiter = FixedWindowRateLimiter(storage)

    async def hit(self, who: str) -> dict[str, str]:
        """Counts one request of `who`: the headers to answer with, or 429 (with `Retry-After`)
        once its window is used up. With the storage down the request goes through unlimited
        (logged) rather than the assistant going down with it."""
        bucket = hashlib.sha256(who.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        try:
            allowed = await self.limiter.hit(self.limit, _NAMESPACE, bucket)
            stats = await self.limiter.get_window_stats(self.limit, _NAMESPACE, bucket)
        except Exception as error:  # noqa: BLE001 — any storage failure: skip the limit, say why
            log.warning("assistant rate limit storage unavailable", error_type=type(error).__name__)
            return {}
        reset = math.ceil(stats.reset_time)
        headers = {
            "X-RateLimit-Limit": str(self.limit.amount),
            "X-RateLimit-Remaining": str(max(0, stats.remaining)),
            "X-RateLimit-Reset": str(reset),
        }
        if allowed:
            return headers
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise ApiError(
            429,
            f"too many requests (limit {self.limit.amount} per "
            f"{self.limit.get_expiry()} s); retry later",
            details={"retry_after_seconds": retry_after},
            headers={**headers, "Retry-After": str(retry_after)},
        )


def limiter_for(request: Request, settings: Settings) -> AssistantLimiter:
    """One limiter per app, made on first use (the app's lifespan belongs to every system)."""
    state = request.app.state
    limiter = getattr(state, "assistant_limiter", None)
    if limiter is None:
        limiter = state.assistant_limiter = AssistantLimiter(settings)
    return limiter
