"""Fixtures of the external-service API tests: secrets cleaned up after each test, and an admin
client whose every response body and log line is checked for their values."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.helpers.external_services import BASE, Secrets
from tests.helpers.platform import recording_admin_client


@pytest.fixture
async def secrets(settings) -> AsyncIterator[Secrets]:
    holder = Secrets(settings)
    yield holder
    await holder.cleanup()


@pytest.fixture
async def http(api_server, secrets: Secrets, capfd) -> AsyncIterator[httpx.AsyncClient]:
    """An admin client that records every response body; after the test neither a body nor a
    log line (the API logs to this process' stderr) may hold a secret value, and the services the
    test registered are removed."""
    async with recording_admin_client(api_server.url) as (client, bodies):
        yield client
        for service in (
            await client.get(BASE, params={"active_only": "false", "limit": 1000})
        ).json():
            if service["name"].startswith("es-t-"):
                await client.delete(f"{BASE}/{service['id']}")
    assert bodies
    captured = capfd.readouterr()
    logs = captured.out + captured.err
    for value in secrets.sensitive:
        leaked = [body for body in bodies if value in body]
        assert not leaked, f"a secret value appeared in a response: {leaked[0][:300]}"
        assert value not in logs, "a secret value appeared in the logs"
