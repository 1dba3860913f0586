"""The per-account ingest rate limit, with `limits.aio` (WIRE_APIS §9): counters in memory, or in
Redis (through redis-py, already a platform dependency) so every API process shares them: with
several API processes the limit holds for the account across all of them only in Redis
(`redis_url`, or `crm_rate_limit_storage_url`); in memory each process counts its own share."""

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


class IngestLimiter:
    def __init__(self, settings: Settings) -> None:
        self.limit = parse(settings.crm_ingest_rate_limit)
        url = settings.resolved_crm_rate_limit_storage_url
        storage: Storage
        if url.startswith(("redis://", "rediss://")):
            storage = RedisStorage(
                url.replace("redis", "async+redis", 1),
                implementation="redispy",
                key_prefix=f"{settings.redis_key_prefix}-crm",
            )
        else:
            storage = MemoryStorage()
        self.limiter = FixedWindowRateLimiter(storage)

    async def check(self, account_key: str) -> None:
        """429 with Retry-After once the account's key has used its window. Keyed by the key's
        hash, before the account is looked up, so a flood costs the database nothing and an unknown
        key is limited like a known one. When Redis is down the limit is skipped (logged), not the
        delivery: a lost record is worse than an unthrottled one."""
        bucket = hashlib.sha256(account_key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        try:
            if await self.limiter.hit(self.limit, "crm-ingest", bucket):
                return
            stats = await self.limiter.get_window_stats(self.limit, "crm-ingest", bucket)
        except Exception as error:  # noqa: BLE001 — any storage failure: skip the limit, say why
            log.warning("crm rate limit storage unavailable", error_type=type(error).__name__)
            return
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise ApiError(
            429,
            f"too many deliveries for this account (limit {self.limit}); retry later",
            details={"retry_after_seconds": retry_after},
            headers={"Retry-After": str(retry_after)},
        )


def limiter_for(request: Request, settings: Settings) -> IngestLimiter:
    """One limiter per app, made on first use (the app's lifespan belongs to every system)."""
    state = request.app.state
    limiter = getattr(state, "crm_ingest_limiter", None)
    if limiter is None:
        limiter = state.crm_ingest_limiter = IngestLimiter(settings)
    return limiter
