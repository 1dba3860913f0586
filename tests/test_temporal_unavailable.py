"""With Temporal unreachable, the API answers 503 `unavailable` quickly (issue 7, finding 14): both
when it never connected (a closed port) and when the server went away after it had connected
(where the client's own retries used to hold a POST for 6 to 10 seconds before a 500)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from temporalio.service import RPCError, RPCStatusCode

from core.settings import Settings
from providers.tls import client_context
from temporal.client import unreachable
from tests.helpers.platform import (
    ADMIN_KEY,
    ApiServer,
    free_port,
    make_settings,
    start_dev_server,
)
from tests.helpers.provisioning import IMAGE

BOUND_SECONDS = 5  # generous: a refused connection is retried for 1 s, then answered


@asynccontextmanager
async def api_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    with ApiServer(settings) as server:
        async with httpx.AsyncClient(
            verify=client_context(),
            base_url=server.url,
            headers={"X-API-Key": ADMIN_KEY},
            timeout=30,
        ) as http:
            yield http


async def timed(call) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await call
    return response, time.monotonic() - started


def assert_unavailable(response: httpx.Response, seconds: float) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "unavailable"
    assert seconds < BOUND_SECONDS, seconds


async def test_a_closed_temporal_port_answers_503_quickly(tmp_path, localcloud):
    settings = make_settings(tmp_path, f"127.0.0.1:{free_port()}", localcloud.url)
    async with api_for(settings) as api:
        deploy = await timed(
            api.post("/api/v1/services/deploy", json={"service_name": "down", "image": IMAGE})
        )
        assert_unavailable(*deploy)
        assert_unavailable(*await timed(api.get("/api/v1/jobs/deploy-x")))
        assert_unavailable(*await timed(api.get("/api/v1/jobs")))


async def test_a_temporal_server_that_went_away_answers_503_quickly(tmp_path, localcloud):
    env = await start_dev_server()
    address = env.client.service_client.config.target_host
    settings = make_settings(tmp_path, address, localcloud.url)
    try:
        async with api_for(settings) as api:
            assert (await api.get("/api/v1/jobs")).status_code == 200  # connected
            await env.shutdown()
            deploy = await timed(
                api.post("/api/v1/services/deploy", json={"service_name": "gone", "image": IMAGE})
            )
            assert_unavailable(*deploy)
            assert_unavailable(*await timed(api.get("/api/v1/jobs/deploy-x")))
    finally:
        await env.shutdown()


def test_a_call_past_the_apis_timeout_counts_as_unreachable():
    """The SDK ends a call past its rpc_timeout CANCELLED "Timeout expired" (seen from a loaded
    dev server): the API answers that 503, as for a server that is down, not 500."""
    assert unreachable(RPCError("Timeout expired", RPCStatusCode.CANCELLED, b""))
    assert unreachable(RPCError("deadline", RPCStatusCode.DEADLINE_EXCEEDED, b""))
    assert not unreachable(RPCError("cancelled", RPCStatusCode.CANCELLED, b""))
