"""Fixed-window rate limits with `limits.aio` (WIRE_APIS §9), shared by the systems that limit
callers: counters in memory (each API process counts its own share) or in Redis (through redis-py,
already a platform dependency) so every API process counts as one. A storage failure lets the
request through, logged: each system says why that is the lesser harm."""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

import structlog
from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Window:
    """One counted request: whether it may go on, and the window's state for the headers."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: float

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self.reset_at - time.time()))


class WindowLimiter:
    def __init__(self, limit: str, storage_url: str, key_prefix: str, namespace: str) -> None:
        self.limit: RateLimitItem = parse(limit)
        self.namespace = namespace
        storage: Storage
        if storage_url.startswith(("redis://", "rediss://")):
            storage = RedisStorage(
                storage_url.replace("redis", "async+redis", 1),
                implementation="redispy",
                key_prefix=key_prefix,
            )
        else:
            storage = MemoryStorage()
        self.limiter = FixedWindowRateLimiter(storage)

    async def hit(self, who: str, *, stats_when_allowed: bool = True) -> Window | None:
        """Counts one request of `who` (kept only as a hash); None when the storage is down. The
        window's state costs the storage a second call: a caller that shows it only on refusal
        says so with `stats_when_allowed=False` (an allowed Window then carries no state)."""
        bucket = hashlib.sha256(who.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        try:
            allowed = await self.limiter.hit(self.limit, self.namespace, bucket)
            if allowed and not stats_when_allowed:
                return Window(True, self.limit.amount, -1, 0.0)
            stats = await self.limiter.get_window_stats(self.limit, self.namespace, bucket)
        except Exception as error:  # noqa: BLE001 — any storage failure: skip the limit, say why
            log.warning(
                "rate limit storage unavailable",
                limit=self.namespace,
                error_type=type(error).__name__,
            )
            return None
        return Window(allowed, self.limit.amount, max(0, stats.remaining), stats.reset_time)
