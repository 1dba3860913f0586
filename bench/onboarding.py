"""Orchestration overhead of a full customer onboarding (Jira + LiteLLM + ZenML, issue 11).

One POST /api/v1/customers with all three provisionings, on a real dev server, worker, API and local
cloud (and the real MariaDB). From the workflow histories (the parent, its three child jobs and the
ZenML deploy job under them) it takes every activity's own duration (started → completed) and prints
the job's wall time (parent started → closed) against:

- the sum of all activity durations: the issue's measure, **overhead ratio = wall / sum**, target
  ≤ 1.10 ("met"/"not met"). The branches run in parallel, so the sum can exceed the wall time;
- the time at least one activity ran (the union of their intervals, the work's critical path):
  `critical` = wall / busy, the stricter view, printed beside it. `idle s` (wall − busy) is the
  orchestration's own time on that path, about constant.

Both depend on how long the outside calls take, so `--lro-delay` sets how long a Cloud Run operation
takes in the local cloud (default: as `make run` has it, 1 s; a real deploy takes tens of seconds).
Runs in well under 2 min.

    python bench/onboarding.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from statistics import median

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.settings import Settings  # noqa: E402
from localcloud.testing import LocalCloud  # noqa: E402
from store.db import Database  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from temporal.client import data_converter  # noqa: E402
from tests.helpers.platform import ADMIN_KEY, ApiServer, make_settings, start_dev_server  # noqa: E402
from worker import build_worker  # noqa: E402

TARGET = 1.10


def _time(event) -> datetime:
    return event.event_time.ToDatetime()


async def job_tree(
    client: Client, workflow_id: str
) -> tuple[list[tuple[datetime, datetime]], float]:
    """Every activity's (started, completed) in this workflow and its children; its wall seconds."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    events = history.events
    wall = (_time(events[-1]) - _time(events[0])).total_seconds()
    started: dict[int, datetime] = {}
    intervals: list[tuple[datetime, datetime]] = []
    for event in events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            started[event.activity_task_started_event_attributes.scheduled_event_id] = _time(event)
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            scheduled = event.activity_task_completed_event_attributes.scheduled_event_id
            intervals.append((started[scheduled], _time(event)))
        elif event.event_type == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
            child = event.child_workflow_execution_started_event_attributes.workflow_execution
            intervals += (await job_tree(client, child.workflow_id))[0]
    return intervals, wall


def busy_seconds(intervals: list[tuple[datetime, datetime]]) -> float:
    total, end = 0.0, None
    for start, stop in sorted(intervals):
        if end is None or start > end:
            total += (stop - start).total_seconds()
            end = stop
        elif stop > end:
            total += (stop - end).total_seconds()
            end = stop
    return total


async def onboard(http: httpx.AsyncClient, client: Client) -> tuple[float, float, float, int]:
    prefix = f"b{uuid.uuid4().hex[:8]}"
    body = {
        "prefix": prefix,
        "name": f"Bench {prefix}",
        "email": f"admin@{prefix}.example",
        "create_jira_portal": True,
        "create_litellm": True,
        "create_zenml": True,
    }
    answer = await http.post("/api/v1/customers", json=body)
    answer.raise_for_status()
    created = answer.json()
    result = await client.get_workflow_handle(created["job_id"]).result()
    failed = [b for b, o in result["provisionings"].items() if o["status"] != "ready"]
    if failed:
        raise SystemExit(f"onboarding of {prefix}: {failed} failed: {result}")
    intervals, wall = await job_tree(client, created["job_id"])
    busy = busy_seconds(intervals)
    total = sum((stop - start).total_seconds() for start, stop in intervals)
    # Offboard, so the bench leaves nothing behind in MariaDB.
    (await http.delete(f"/api/v1/customers/{created['id']}")).raise_for_status()
    return wall, busy, total, len(intervals)


async def main(runs: int, lro_delay: float) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-onboarding-"))
    env = await start_dev_server()
    cloud = LocalCloud.start(work / "localcloud", lro_delay=lro_delay)
    try:
        target = env.client.service_client.config.target_host
        settings = make_settings(work, target, cloud.url)
        # Alembic runs its own event loop: not inside this one.
        await asyncio.to_thread(upgrade, settings.resolved_database_url)
        db = Database(settings.resolved_database_url)
        client = await Client.connect(target, data_converter=data_converter(settings))
        async with build_worker(client, settings, db):
            with ApiServer(settings) as server:
                async with httpx.AsyncClient(
                    base_url=server.url, headers={"X-API-Key": ADMIN_KEY}, timeout=60
                ) as http:
                    await onboard(http, client)  # warm-up: first imports, connections
                    rows = [await onboard(http, client) for _ in range(runs)]
        await db.dispose()
    finally:
        cloud.stop()
        await env.shutdown()
        shutil.rmtree(work, ignore_errors=True)

    print(
        f"full onboarding (Jira + LiteLLM + ZenML), {runs} runs after a warm-up, "
        f"local cloud operations take {lro_delay} s"
    )
    print(
        f"{'run':>4} {'wall s':>8} {'sum s':>8} {'busy s':>8} {'steps':>6} {'idle s':>7} "
        f"{'ratio':>6} {'critical':>9}"
    )
    for i, (wall, busy, total, steps) in enumerate(rows, 1):
        print(
            f"{i:>4} {wall:8.2f} {total:8.2f} {busy:8.2f} {steps:>6} {wall - busy:7.2f} "
            f"{wall / total:6.3f} {wall / busy:9.3f}"
        )
    ratio = median(wall / total for wall, _busy, total, _steps in rows)
    critical = median(wall / busy for wall, busy, _total, _steps in rows)
    verdict = "met" if ratio <= TARGET else "not met"
    print(f"critical-path ratio (median, wall / busy): {critical:.3f}")
    print(
        f"orchestration overhead ratio (median, wall / sum of activities): {ratio:.3f}; "
        f"target ≤ {TARGET}: {verdict}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--lro-delay",
        type=float,
        default=Settings().localcloud_lro_delay_seconds,
        help="how long a Cloud Run operation takes in the local cloud (default: as `make run`)",
    )
    args = parser.parse_args()
    started = time.monotonic()
    asyncio.run(main(args.runs, args.lro_delay))
    print(f"(bench took {time.monotonic() - started:.0f} s)")
