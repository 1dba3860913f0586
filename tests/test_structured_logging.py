"""Worker logs are JSON lines; every line written while running a job names its job_id; no API key
or secret value is ever logged."""

from __future__ import annotations

import json

from tests.helpers.platform import (
    ADMIN_KEY,
    own_platform,
    unique_name,
    wait_for_job,
)
from tests.helpers.provisioning import deploy

WORKER_LIFECYCLE = (
    "worker started",
    "worker stopping",
    "worker stopped",
    "Beginning worker shutdown",
)


async def test_every_worker_line_of_a_job_carries_its_job_id_and_no_key(
    data_dir, settings, localcloud, tmp_path, capfd
):
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log_file:
        platform = own_platform(
            data_dir, settings.temporal_address, localcloud.url, stdout=log_file, stderr=log_file
        )
        async with platform as own:
            ok = (await deploy(own.api, unique_name("logs")))["job_id"]
            assert (await wait_for_job(own.api, ok))["status"] == "completed"
            doomed = unique_name("logsfail")
            conflict = localcloud.inject_fault(
                fail_next=1, code=409, method="POST", path_contains=f"serviceId={doomed}"
            )
            try:
                failed = (await deploy(own.api, doomed))["job_id"]
                assert (await wait_for_job(own.api, failed))["status"] == "failed"
            finally:
                localcloud.clear_faults()
            assert localcloud.fired(conflict) == 1

    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    job_lines = [line for line in lines if not line.get("event", "").startswith(WORKER_LIFECYCLE)]
    assert len(job_lines) >= 10
    assert all(line.get("job_id") for line in job_lines), [
        line for line in job_lines if not line.get("job_id")
    ]
    # The dev server is shared: a schedule (drift watch, runner cleanup) that fires
    # during the test runs on this worker too, and its lines carry its own job id.
    job_ids = {line["job_id"] for line in job_lines}
    assert {ok, failed} <= job_ids
    assert all("-scheduled-" in job_id for job_id in job_ids - {ok, failed}), job_ids
    api_output = capfd.readouterr()
    for text in (log_path.read_text(), api_output.out + api_output.err):
        assert ADMIN_KEY not in text
