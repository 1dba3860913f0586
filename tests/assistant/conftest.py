"""The assistant tests' platform: the suite's API and a worker of its own on fresh task queues,
whose platform tools read that API (`assistant_platform_api_url`), and console logins."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from core.local_keys import console_admin_password
from core.settings import Settings
from providers.tls import client_context
from store.db import Database
from tests.helpers.platform import ADMIN_KEY, ApiServer
from worker import build_worker


@pytest.fixture(scope="module")
def assistant_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"task_queue": f"assistant-{uuid.uuid4().hex[:8]}"})


@pytest.fixture(scope="module")
def assistant_server(assistant_settings: Settings) -> Iterator[ApiServer]:
    with ApiServer(assistant_settings) as server:
        yield server


@pytest.fixture(scope="module")
async def assistant_worker(
    client, assistant_settings: Settings, assistant_server: ApiServer, db: Database
) -> AsyncIterator[None]:
    worker_settings = assistant_settings.model_copy(
        update={"assistant_platform_api_url": assistant_server.url}
    )
    async with build_worker(client, worker_settings, db, ["assistant"]):
        yield


async def login(url: str, settings: Settings) -> str:
    # Generous: a login hashes a password (argon2), seconds on a loaded machine.
    async with httpx.AsyncClient(verify=client_context(), base_url=url, timeout=60) as anonymous:
        response = await anonymous.post(
            "/api/auth/login",
            json={
                "username": settings.assistant_admin_username,
                "password": console_admin_password(settings),
            },
        )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.fixture
async def console(
    assistant_server: ApiServer, assistant_settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    """A client logged in as the first console admin."""
    token = await login(assistant_server.url, assistant_settings)
    async with httpx.AsyncClient(
        verify=client_context(),
        base_url=assistant_server.url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=90,
    ) as http:
        yield http


@pytest.fixture
async def by_key(assistant_server: ApiServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        verify=client_context(),
        base_url=assistant_server.url,
        headers={"X-API-Key": ADMIN_KEY},
        timeout=30,
    ) as http:
        yield http
