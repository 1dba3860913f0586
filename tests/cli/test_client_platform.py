"""The async client against the suite's running platform: a job started through it is followed
line by line to its end, and a refusal carries the API's envelope."""

from __future__ import annotations

import httpx
import pytest

from conneskills.client import AsyncClient, ConneSkillsError
from tests.helpers.platform import ADMIN_KEY, unique_name
from tests.helpers.provisioning import IMAGE


async def test_the_async_client_deploys_follows_the_logs_and_waits(api, api_server):
    name = unique_name("aclient")
    async with AsyncClient(api_server.url, ADMIN_KEY) as client:
        started = await client.services.deploy({"service_name": name, "image": IMAGE})
        lines = [line async for line in client.jobs.follow_logs(started.job_id, interval=0.3)]
        job = await client.jobs.wait(started.job_id, timeout=60)
        logs = await client.jobs.logs(started.job_id)

        assert job.status == "completed", job
        assert lines == logs.logs
        assert (await client.services.get(name)).name == name
        listed = await client.jobs.list(service_name=name)
        assert started.job_id in [j.job_id for j in listed.jobs]

        with pytest.raises(ConneSkillsError) as caught:
            await client.services.deploy({"service_name": name})
        assert caught.value.status_code == 400 and caught.value.code == "validation_error"
        assert any(f["field"].endswith("image") for f in caught.value.fields)


class _CountingTransport(httpx.AsyncHTTPTransport):
    """Counts each request's method and path, then sends it."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(f"{request.method} {request.url.path}?{request.url.query.decode()}")
        return await super().handle_async_request(request)


async def test_the_clients_wait_asks_the_api_to_hold_its_answer(api, api_server, clean_faults):
    """`jobs.wait` asks `GET /jobs/{id}?wait=…`: one request while the job runs, however short
    the poll interval, where polling asked every `interval`."""
    name = unique_name("aclient")
    clean_faults.delay_next("POST", f"serviceId={name}", 2500)
    transport = _CountingTransport()
    async with AsyncClient(api_server.url, ADMIN_KEY, transport=transport) as client:
        started = await client.services.deploy({"service_name": name, "image": IMAGE})
        job = await client.jobs.wait(started.job_id, timeout=60, interval=0.05)

    assert job.status == "completed", job
    reads = [line for line in transport.sent if line.startswith(f"GET /api/v1/jobs/{job.job_id}")]
    assert len(reads) <= 2, reads
    assert all("wait=" in line for line in reads), reads
