"""Every operation in the OpenAPI document, fuzzed: whatever the input, the API never answers 5xx,
and every status it answers is one the document declares for that operation.

Runs the schemathesis CLI against the suite's live API (real worker, dev server, local cloud), with
a bounded number of examples so it stays a fast guard rather than a soak test.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from tests.helpers.platform import ADMIN_KEY


async def test_no_operation_answers_a_server_error_to_generated_input(api, api_server, tmp_path):
    report = tmp_path / "schemathesis.log"
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{api_server.url}/openapi.json",
        "-H",
        f"X-API-Key: {ADMIN_KEY}",
        "--checks",
        "not_a_server_error,status_code_conformance",
        "--max-examples",
        "8",
        # Force-delete takes a Cloud Run LRO per call and says nothing new about input handling.
        "--exclude-path-regex",
        "/force$",
        "--request-timeout",
        "30",
        "--seed",
        "20261123",
    ]
    with report.open("w") as output:
        completed = await asyncio.to_thread(
            subprocess.run,
            command,
            cwd=tmp_path,
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=600,
        )
    text = report.read_text()
    assert completed.returncode == 0, text[-4000:]
    assert "passed" in text
