"""Every operation in the OpenAPI document, fuzzed: whatever the input, the API never answers 5xx,
and every status it answers is one the document declares for that operation.

Runs the schemathesis CLI against the suite's live API (real worker, dev server, local cloud). In
`make test` the budget is fixed and derandomised (the same cases every run, a few per operation), so
it stays a fast, repeatable guard; `make fuzz` runs it as a soak: `FUZZ_MAX_EXAMPLES` cases per
operation from a random seed it prints (`FUZZ_SEED` replays one).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import random
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.helpers.platform import ADMIN_KEY

MAX_EXAMPLES = os.environ.get("FUZZ_MAX_EXAMPLES")
# Force-delete takes a Cloud Run LRO per call and says nothing new about input handling; the log
# stream never ends by itself (its input is checked in tests/hosting).
NEVER = "/force$|^/logs/stream$"
# The operations, split into shards, one parametrisation each (the fuzz test was the
# suite's longest test by far, run in one process). "rest" takes every path no other shard names,
# so a new route is fuzzed without touching this list.
SHARDS = {
    "admin": r"^/api/v1/(admin|alerts|audit|api-keys)(/|$)",
    "services": r"^/api/v1/services(/|$)",
    "external-services": r"^/api/v1/external-services(/|$)",
    "customers": r"^/api/v1/(customers|agents)(/|$)",
    "secrets-jobs": r"^/api/v1/(secrets|jobs)(/|$)",
    "hosting": r"^/(users|service|service-types|control-service|vm|control-vm)(/|$)",
    "assistant": r"^/api/(auth|chat|conversations|config|metrics|tools|learned-apis|webhooks)(/|$)",
}


# Hypothesis derives its Unicode tables once and keeps them in its storage directory: for the utf-8
# codec schemathesis generates strings with, about 1.5 s of CPU. Each shard runs in a fresh directory,
# so each shard derived them again (a tenth of the test's CPU). The shards share the checkout's
# .hypothesis instead (gitignored; where Hypothesis keeps them for any run from the checkout), the
# first one to need the tables deriving them while the others wait. It holds no example database for
# these runs (a derandomised or seeded run keeps none), so nothing in it changes the cases.
HYPOTHESIS_HOME = Path(__file__).resolve().parent.parent / ".hypothesis"
WARM_TABLES = (
    "from hypothesis import strategies as st; st.text(st.characters(codec='utf-8')).example()"
)


def warm_hypothesis_tables() -> None:
    """Derives Hypothesis's Unicode tables into HYPOTHESIS_HOME once per Hypothesis and Python."""
    HYPOTHESIS_HOME.mkdir(exist_ok=True)
    python = "{}.{}".format(*sys.version_info[:2])
    marker = HYPOTHESIS_HOME / f"fuzz-tables-hypothesis-{version('hypothesis')}-python-{python}"
    with (HYPOTHESIS_HOME / "fuzz-tables.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists():
            return
        subprocess.run(
            [sys.executable, "-W", "ignore", "-c", WARM_TABLES],
            env={**os.environ, "HYPOTHESIS_STORAGE_DIRECTORY": str(HYPOTHESIS_HOME)},
            check=True,
        )
        marker.touch()


def selection(shard: str) -> list[str]:
    if shard in SHARDS:
        return ["--include-path-regex", SHARDS[shard], "--exclude-path-regex", NEVER]
    return ["--exclude-path-regex", "|".join([NEVER, *SHARDS.values()])]


def budget() -> list[str]:
    """The repeatable default, or a soak's examples per operation and its seed."""
    if not MAX_EXAMPLES:
        return ["--max-examples", "8", "--generation-deterministic"]
    seed = os.environ.get("FUZZ_SEED") or str(random.randrange(2**32))
    print(f"fuzz: {MAX_EXAMPLES} examples per operation, FUZZ_SEED={seed}")
    return ["--max-examples", MAX_EXAMPLES, "--seed", seed]


@pytest.mark.long
# Mostly CPU (about 4 000 requests into the API over all shards): on a machine as busy as the
# parallel suite makes it, a shard takes a few times its quiet time.
@pytest.mark.timeout(900)
@pytest.mark.parametrize("shard", [*SHARDS, "rest"])
async def test_no_operation_answers_a_server_error_to_generated_input(
    api, api_server, tmp_path, shard
):
    report = tmp_path / "schemathesis.log"
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{api_server.url}/openapi.json",
        "-H",
        f"X-API-Key: {ADMIN_KEY}",
        "--checks",
        "not_a_server_error,status_code_conformance",
        *budget(),
        *selection(shard),
        "--request-timeout",
        "30",
    ]
    await asyncio.to_thread(warm_hypothesis_tables)
    # The API builds its OpenAPI document on the first request for it and keeps it. Built under
    # schemathesis's 10 s limit for loading a schema, on a machine busy starting every process's
    # platform, it failed three shards of one run ("Failed to load specification").
    (await api.get("/openapi.json", timeout=120)).raise_for_status()
    with report.open("w") as output:
        completed = await asyncio.to_thread(
            subprocess.run,
            command,
            cwd=tmp_path,
            env={**os.environ, "HYPOTHESIS_STORAGE_DIRECTORY": str(HYPOTHESIS_HOME)},
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=None if MAX_EXAMPLES else 600,
        )
    text = report.read_text()
    assert completed.returncode == 0, text[-4000:]
    assert "passed" in text
