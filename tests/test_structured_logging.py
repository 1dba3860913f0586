"""Worker logs are JSON lines; every line written while running a job names its job_id; no API key
or secret value is ever logged."""

from __future__ import annotations

import json

import httpx

from tests.conftest import (
    ADMIN_KEY,
    ApiServer,
    make_settings,
    start_worker_process,
    unique_name,
    wait_for_job,
)
from tests.test_services_e2e import deploy

WORKER_LIFECYCLE = ("worker started", "worker stopped", "Beginning worker shutdown")


async def test_every_worker_line_of_a_job_carries_its_job_id_and_no_key(
    data_dir, settings, localcloud, tmp_path, capfd
):
    own = make_settings(data_dir, settings.temporal_address, localcloud.url)
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log_file:
        worker = start_worker_process(own, stdout=log_file, stderr=log_file)
    try:
        with ApiServer(own) as server:
            async with httpx.AsyncClient(
                base_url=server.url, timeout=30, headers={"X-API-Key": ADMIN_KEY}
            ) as api:
                ok = (await deploy(api, unique_name("logs")))["job_id"]
                assert (await wait_for_job(api, ok))["status"] == "completed"
                localcloud.inject_fault(
                    fail_next=1, code=409, method="POST", path_contains="/services"
                )
                try:
                    failed = (await deploy(api, unique_name("logsfail")))["job_id"]
                    assert (await wait_for_job(api, failed))["status"] == "failed"
                finally:
                    localcloud.clear_faults()
    finally:
        worker.terminate()
        worker.wait(timeout=20)

    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    job_lines = [line for line in lines if not line.get("event", "").startswith(WORKER_LIFECYCLE)]
    assert len(job_lines) >= 10
    assert {line.get("job_id") for line in job_lines} == {ok, failed}, [
        line for line in job_lines if not line.get("job_id")
    ]
    api_output = capfd.readouterr()
    for text in (log_path.read_text(), api_output.out + api_output.err):
        assert ADMIN_KEY not in text
