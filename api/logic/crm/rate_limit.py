"""The per-account ingest rate limit: with several API processes the limit holds for the account
across all of them only in Redis (`redis_url`, or `crm_rate_limit_storage_url`); in memory each
process counts its own share. When the storage is down the limit is skipped (logged), not the
delivery: a lost record is worse than an unthrottled one."""

from __future__ import annotations

from starlette.requests import Request

from api.errors import ApiError
from api.rate_limits import WindowLimiter
from core.settings import Settings


class IngestLimiter:
    def __init__(self, settings: Settings) -> None:
        self.window = WindowLimiter(
            settings.crm_ingest_rate_limit,
            settings.resolved_crm_rate_limit_storage_url,
            key_prefix=f"{settings.redis_key_prefix}-crm",
            namespace="crm-ingest",
        )

    async def check(self, account_key: str) -> None:
        """429 with Retry-After once the account's key has used its window. Keyed by the key's
        hash, before the account is looked up, so a flood costs the database nothing and an unknown
        key is limited like a known one."""
        window = await self.window.hit(account_key, stats_when_allowed=False)
        if window is None or window.allowed:
            return
        raise ApiError(
            429,
            f"too many deliveries for this account (limit {self.window.limit}); retry later",
            details={"retry_after_seconds": window.retry_after},
            headers={"Retry-After": str(window.retry_after)},
        )


def limiter_for(request: Request, settings: Settings) -> IngestLimiter:
    """One limiter per app, made on first use (the app's lifespan belongs to every system)."""
    state = request.app.state
    limiter = getattr(state, "crm_ingest_limiter", None)
    if limiter is None:
        limiter = state.crm_ingest_limiter = IngestLimiter(settings)
    return limiter
