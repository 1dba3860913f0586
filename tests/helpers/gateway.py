"""The runners gateway in tests: one served in front of a chosen upstream, and a fake upstream
that records what reaches it."""

from __future__ import annotations

import asyncio
import time

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gateway.app import create_app
from tests.helpers.runners import Served

BASE = 0.2  # backoff base in these tests: gaps of 0.2 s, 0.4 s, 0.8 s


async def wait_until_serving(port: int, what: str, seconds: float = 120) -> None:
    """Waits for a gateway process to answer its health check (generous: the parallel suite keeps
    two cores busy while the process imports)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            await asyncio.to_thread(httpx.get, f"http://127.0.0.1:{port}/healthz", timeout=1)
            return
        except httpx.TransportError:
            assert time.monotonic() < deadline, f"{what} did not start"
            await asyncio.sleep(0.1)


def gateway_for(settings, upstream_url: str, **overrides):
    values = {
        "gateway_upstream_url": upstream_url,
        "gateway_retry_base_seconds": BASE,
        **overrides,
    }
    return Served(create_app(settings.model_copy(update=values)))


class Recorder:
    """A fake upstream that notes when each request came and answers what the test says."""

    def __init__(self, answer) -> None:
        self.times: list[float] = []
        self.requests: list[dict] = []
        self.app = FastAPI()

        @self.app.api_route("/{path:path}", methods=["GET", "POST", "DELETE"])
        async def anything(request: Request, path: str):
            self.times.append(time.monotonic())
            self.requests.append(
                {"path": path, "headers": dict(request.headers), "body": await request.body()}
            )
            return await answer(request, len(self.times))


async def json_answer(status: int, body) -> JSONResponse:
    return JSONResponse(body, status_code=status)
