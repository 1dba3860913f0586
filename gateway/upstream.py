"""The platform API behind the gateway: one pooled httpx.AsyncClient, and the retry rule.

Connection errors and 502/503/504 answers are retried up to 3 times, waiting base, 2×base and 4×base
(1 s, 2 s, 4 s). A POST is only ever sent with an Idempotency-Key (the gateway adds one per client
request when the client sent none), so a retried POST lands on the jobs the first attempt started.
No answer within the timeout is a 504 at once: the request may be running upstream, and waiting
for it again would only repeat the wait."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import structlog

from gateway.envelope import GatewayError

log = structlog.get_logger("gateway.upstream")
RETRIES = 3
RETRY_STATUSES = {502, 503, 504}
# No answer came at all: nothing ran upstream, or (for a POST) the Idempotency-Key covers it.
_CONNECTION_ERRORS = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)


class Upstream:
    def __init__(self, client: httpx.AsyncClient, retry_base_seconds: float) -> None:
        self.client = client
        self.delays = [retry_base_seconds * 2**i for i in range(RETRIES)]

    async def request(
        self, method: str, path: str, *, headers: dict[str, str], request_id: str, **kwargs: Any
    ) -> httpx.Response:
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                response = await self.client.request(method, path, headers=headers, **kwargs)
            except httpx.TimeoutException as error:
                if not isinstance(error, httpx.ConnectTimeout | httpx.PoolTimeout):
                    log.warning("upstream timed out", request_id=request_id, path=path)
                    raise GatewayError(504, "Timeout del orquestador") from None
                failure: str = type(error).__name__
            except _CONNECTION_ERRORS as error:
                failure = type(error).__name__
            else:
                if response.status_code not in RETRY_STATUSES:
                    return response
                failure = f"HTTP {response.status_code}"
            log.warning(
                "upstream attempt failed",
                request_id=request_id,
                path=path,
                attempt=attempt + 1,
                failure=failure,
                seconds=round(time.monotonic() - started, 3),
            )
            if attempt == RETRIES:
                raise GatewayError(
                    503, "Orquestador no disponible", {"attempts": attempt + 1, "failure": failure}
                )
            await asyncio.sleep(self.delays[attempt])
            attempt += 1
