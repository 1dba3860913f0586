"""The async client against the suite's running platform: a job started through it is followed
line by line to its end, and a refusal carries the API's envelope."""

from __future__ import annotations

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
