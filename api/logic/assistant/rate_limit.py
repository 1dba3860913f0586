"""The assistant API's rate limit per caller (seed 002: 60 per minute) and its `X-RateLimit-*`
headers. With the storage down a request goes through unlimited (logged) rather than the assistant
going down with it."""

from __future__ import annotations

import math

from starlette.requests import Request

from api.errors import ApiError
from api.rate_limits import WindowLimiter
from core.settings import Settings


class AssistantLimiter:
    def __init__(self, settings: Settings) -> None:
        self.window = WindowLimiter(
            settings.assistant_rate_limit,
            settings.resolved_assistant_rate_limit_storage_url,
            key_prefix=f"{settings.redis_key_prefix}-assistant",
            namespace="assistant",
        )

    async def hit(self, who: str) -> dict[str, str]:
        """Counts one request of `who`: the headers to answer with, or 429 (with `Retry-After`)
        once its window is used up."""
        window = await self.window.hit(who)
        if window is None:
            return {}
        headers = {
            "X-RateLimit-Limit": str(window.limit),
            "X-RateLimit-Remaining": str(window.remaining),
            "X-RateLimit-Reset": str(math.ceil(window.reset_at)),
        }
        if window.allowed:
            return headers
        limit = self.window.limit
        raise ApiError(
            429,
            f"too many requests (limit {limit.amount} per {limit.get_expiry()} s); retry later",
            details={"retry_after_seconds": window.retry_after},
            headers={**headers, "Retry-After": str(window.retry_after)},
        )


def limiter_for(request: Request, settings: Settings) -> AssistantLimiter:
    """One limiter per app, made on first use (the app's lifespan belongs to every system)."""
    state = request.app.state
    limiter = getattr(state, "assistant_limiter", None)
    if limiter is None:
        limiter = state.assistant_limiter = AssistantLimiter(settings)
    return limiter
