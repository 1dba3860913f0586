"""Records workflow histories for the replay tests, from the jobs that tests run on a dev server.

    python -m tests.helpers.record_histories tests/provisioning/test_service_databases_e2e.py

runs those tests (any pytest arguments; `-k` narrows to one branch) with RECORD_HISTORIES_TO set;
when the session's dev server shuts down, tests/conftest.py hands its client to
`record_session_histories`, which writes into tests/histories/ one history per workflow type that
ran, plus one for every patch marker those do not carry. A file is named after the workflow type
and the patch ids its history records, so recording again after a workflow change adds histories
for the new branches and leaves the older ones (the proof that old jobs still replay) in place.
Payloads stay encrypted with the suite's fixed CODEC_KEY, as the replay tests expect.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from temporalio.client import Client, WorkflowExecution

from contracts.resource_lock import LOCK_DIVISION
from tests.helpers.histories import RECORDED_DIR, HistoryCoverage, coverage_of

RECORD_ENV = "RECORD_HISTORIES_TO"


def history_file_name(covered: HistoryCoverage) -> str:
    type_name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", covered.workflow_type).lower()
    patches = "\n".join(sorted(covered.patch_ids))
    return f"{type_name}-{hashlib.sha256(patches.encode()).hexdigest()[:10]}.json"


async def record_session_histories(client: Client, directory: Path) -> list[Path]:
    """Writes a covering set of the histories on this server; answers the files written."""
    candidates: list[tuple[HistoryCoverage, tuple, dict]] = []
    async for execution in _every_execution(client):
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        history = json.loads((await handle.fetch_history()).to_json())
        covered = coverage_of(history)
        # Prefer ended jobs (whole histories), then the most branches, then the longest.
        rank = (execution.close_time is not None, len(covered.patch_ids), len(history["events"]))
        candidates.append((covered, rank, history))
    chosen: dict[str, tuple[HistoryCoverage, dict]] = {}
    for workflow_type in {covered.workflow_type for covered, _, _ in candidates}:
        of_type = [c for c in candidates if c[0].workflow_type == workflow_type]
        covered, _, history = max(of_type, key=lambda c: c[1])
        chosen[history_file_name(covered)] = (covered, history)
    seen = set().union(*(covered.patch_ids for covered, _, _ in candidates))
    for patch_id in sorted(seen):
        if any(patch_id in covered.patch_ids for covered, _ in chosen.values()):
            continue
        covered, _, history = max(
            (c for c in candidates if patch_id in c[0].patch_ids), key=lambda c: c[1]
        )
        chosen[history_file_name(covered)] = (covered, history)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (_, history) in sorted(chosen.items()):
        path = directory / name
        path.write_text(json.dumps(history, indent=1) + "\n")
        written.append(path)
    return written


async def _every_execution(client: Client) -> AsyncIterator[WorkflowExecution]:
    # Visibility lists a namespace division's workflows (the resource locks) only when asked for it.
    for query in (None, f"TemporalNamespaceDivision = '{LOCK_DIVISION}'"):
        async for execution in client.list_workflows(query):
            yield execution


def main(pytest_args: list[str]) -> int:
    env = {**os.environ, RECORD_ENV: str(os.environ.get(RECORD_ENV) or RECORDED_DIR)}
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *pytest_args]
    return subprocess.call(command, env=env)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
