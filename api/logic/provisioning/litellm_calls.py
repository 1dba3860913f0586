"""LiteLLM failures as API errors, for the synchronous reads the API makes through providers/litellm:
the provider raises Temporal failures (for activities), which here become 503 (outage) or 502."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from temporalio.exceptions import ApplicationError

from api.errors import ApiError

T = TypeVar("T")


async def call_litellm(what: str, fn: Callable[..., Awaitable[T]], *args, **kwargs) -> T:
    try:
        return await fn(*args, **kwargs)
    except ApplicationError as error:
        if not error.non_retryable:
            raise ApiError(
                503,
                f"{what}: LiteLLM unavailable, retry later",
                details={"upstream": error.message},
            ) from None
        raise ApiError(
            502, f"{what}: LiteLLM refused the request", details={"upstream": error.message}
        ) from None
