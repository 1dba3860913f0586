"""The hosting tests' API: the suite's, with short log-stream intervals, and clients per scope."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from core.settings import Settings
from providers.tls import client_context
from tests.helpers.platform import ADMIN_KEY, ApiServer

QUICK_STREAM = {
    "job_log_record_seconds": 0.2,
    "log_stream_poll_seconds": 0.2,
    "log_stream_keepalive_seconds": 0.5,
    "api_key_usage_flush_seconds": 0.2,
}


def hosting_settings(settings: Settings) -> Settings:
    return settings.model_copy(update=QUICK_STREAM)


@pytest.fixture(scope="module")
def hosting_server(settings: Settings) -> Iterator[ApiServer]:
    with ApiServer(hosting_settings(settings)) as server:
        yield server


@pytest.fixture
async def hosting(hosting_server: ApiServer, worker) -> AsyncIterator[httpx.AsyncClient]:
    """The API with the admin key (which implies `hosting`), and the suite's worker."""
    async with httpx.AsyncClient(
        verify=client_context(),
        base_url=hosting_server.url,
        headers={"X-API-Key": ADMIN_KEY},
        timeout=30,
    ) as http:
        yield http


async def key_with(http: httpx.AsyncClient, *scopes: str) -> str:
    made = await http.post("/api/v1/api-keys", json={"name": "hosting-test", "scopes": scopes})
    assert made.status_code == 201, made.text
    return made.json()["key"]
