"""When the client retries: 429 and 503, after the answer's `Retry-After`."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

RETRIED = frozenset({429, 503})


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` retries at most; each waits the answer's `Retry-After` (seconds or an HTTP
    date), else `backoff` doubling, never more than `max_wait` seconds.

    A 429 is refused before anything is done, so every method retries it. A 503 may come after
    part of the work: it is retried for GET, HEAD, PUT and DELETE, and for a POST only when it
    carries an `Idempotency-Key` (the client adds one to every job-starting POST)."""

    attempts: int = 3
    backoff: float = 0.5
    max_wait: float = 60.0

    def delay(
        self,
        method: str,
        response: httpx.Response,
        attempt: int,
        headers: Mapping[str, str] | None = None,
    ) -> float | None:
        """Seconds to wait before retrying, or None: do not retry."""
        if response.status_code not in RETRIED or attempt >= self.attempts:
            return None
        if response.status_code == 503 and method.upper() == "POST":
            sent = {k.lower() for k in (headers or {})}
            if "idempotency-key" not in sent:
                return None
        after = retry_after(response.headers.get("Retry-After"))
        wait = after if after is not None else self.backoff * (2**attempt)
        return max(0.0, min(wait, self.max_wait))


def retry_after(value: str | None) -> float | None:
    """`Retry-After` in seconds: delay-seconds, or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
