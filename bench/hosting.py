"""Log stream delivery latency: a job's log line to 20 clients of `GET /logs/stream` (SSE), against
the same lines read by polling `GET /api/v1/jobs/{id}/logs` every second, in the same run.

Starts its own dev server, local cloud, worker and API (the platform's default feed intervals:
`job_log_record_seconds`, `log_stream_poll_seconds`), opens `--clients` streams, then runs
`--rounds` rounds of `--jobs` deploy jobs while a poller reads each job's logs every
`--poll-seconds`. Latency is the time from the line being logged, **as the platform has it**, to a
client seeing it: a line is logged in a workflow task, and `workflow.now()` (the line's own
`[stamp]`, kept to the second) is that task's start event time in the job's history, to the
millisecond. Lines logged with a phase change have their exact task (the memo written with them in
the history carries the line count); only those are measured, and each must agree with its stamp.

Prints, per round and as the median over rounds, SSE p50/p99 against polling's, the ratio, and
whether the target is met: SSE p99 ≤ 100 ms and below polling's.

    python bench/hosting.py [--rounds 5] [--clients 20] [--jobs 2]

`BENCH_DEBUG=1` also prints each measured line with its quickest..slowest client, in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from statistics import median

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import percentile  # noqa: E402
from bench.running_platform import ADMIN_KEY, bench_platform  # noqa: E402

IMAGE = "us-docker.pkg.dev/cloudrun/container/hello:latest"
TARGET_MS = 100.0

# (job_id, line number) -> when each side first saw it (wall clock, seconds)
Seen = dict[tuple[str, int], float]


async def sse_client(http: httpx.AsyncClient, seen: Seen, ready: asyncio.Event) -> None:
    async with http.stream("GET", "/logs/stream", timeout=None) as response:
        response.raise_for_status()
        data = None
        async for line in response.aiter_lines():
            if line.startswith("retry:"):
                ready.set()
            elif line.startswith("data:"):
                data = json.loads(line[5:])
            elif not line and data is not None:
                seen.setdefault((data["job_id"], data["line_no"]), time.time())
                data = None


async def poller(http: httpx.AsyncClient, job_id: str, seen: Seen, every: float) -> None:
    """Polls the job's logs every `every` seconds (from each start, as a client's timer would)."""
    while True:
        started = time.monotonic()
        answer = await http.get(f"/api/v1/jobs/{job_id}/logs", params={"lines": 1000})
        now = time.time()
        if answer.status_code == 200:
            body = answer.json()
            first = body["total"] - len(body["logs"])
            for i in range(len(body["logs"])):
                seen.setdefault((job_id, first + i), now)
        await asyncio.sleep(max(0.0, every - (time.monotonic() - started)))


async def logged_at(client: Client, job_id: str) -> dict[int, tuple[float, float]]:
    """Line number -> when the job logged it: the start of the workflow task that wrote the memo
    with it as its newest line (workflow.now() in that task), and when that task completed (from
    then on the line can be read)."""
    history = await client.get_workflow_handle(job_id).fetch_history()
    times: dict[int, tuple[float, float]] = {}
    task_started: float | None = None
    task_completed = 0.0
    for event in history.events:
        at = event.event_time.ToDatetime(tzinfo=UTC).timestamp()
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            task_started = at
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            task_completed = at
        elif event.event_type == EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
            fields = event.workflow_properties_modified_event_attributes.upserted_memo.fields
            if "job" not in fields or task_started is None:
                continue
            [memo] = await client.data_converter.decode([fields["job"]])
            count = memo.get("log_count")
            if count:
                times[count - 1] = (task_started, task_completed)
    return times


def _stamp_agrees(line: str, at: float) -> bool:
    stamp = line[1:20]  # "[2026-11-28T10:00:04] ..."
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S") == stamp


async def one_round(
    api: httpx.AsyncClient,
    client: Client,
    streams: list[Seen],
    jobs: int,
    poll_seconds: float,
) -> tuple[list[float], list[float], list[float]]:
    polled: Seen = {}
    pollers: list[asyncio.Task] = []
    job_ids: list[str] = []
    for _ in range(jobs):
        body = {"service_name": f"bench-{uuid.uuid4().hex[:10]}", "image": IMAGE}
        started = await api.post("/api/v1/services/deploy", json=body)
        started.raise_for_status()
        job_id = started.json()["job_id"]
        job_ids.append(job_id)
        pollers.append(asyncio.create_task(poller(api, job_id, polled, poll_seconds)))
        await asyncio.sleep(0.3)
    for job_id in job_ids:
        await client.get_workflow_handle(job_id).result()
    await asyncio.sleep(max(2.5, 2 * poll_seconds))  # the last lines reach every side
    for task in pollers:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    sse_ms: list[float] = []
    poll_ms: list[float] = []
    task_ms: list[float] = []
    for job_id in job_ids:
        logs = (await api.get(f"/api/v1/jobs/{job_id}/logs", params={"lines": 1000})).json()
        for line_no, (at, completed) in (await logged_at(client, job_id)).items():
            if not _stamp_agrees(logs["logs"][line_no], at):
                continue
            key = (job_id, line_no)
            if key not in polled or any(key not in seen for seen in streams):
                raise SystemExit(f"line {key} not delivered to every side")
            task_ms.append((completed - at) * 1000)
            poll_ms.append((polled[key] - at) * 1000)
            sse_ms.extend((seen[key] - at) * 1000 for seen in streams)
            if os.environ.get("BENCH_DEBUG"):
                got = sorted((seen[key] - at) * 1000 for seen in streams)
                print(key, logs["logs"][line_no][:60], f"{got[0]:.0f}..{got[-1]:.0f}")
    return sse_ms, poll_ms, task_ms


async def main(rounds: int, clients: int, jobs: int, poll_seconds: float, lro: float) -> None:
    async with bench_platform("hosting", lro_delay=lro) as platform:
        settings, client = platform.settings, platform.client
        headers = {"X-API-Key": ADMIN_KEY}
        limits = httpx.Limits(max_connections=clients + 10)
        async with httpx.AsyncClient(
            base_url=platform.api_url, headers=headers, timeout=60, limits=limits
        ) as api:
            streams: list[Seen] = [{} for _ in range(clients)]
            ready = [asyncio.Event() for _ in range(clients)]
            readers = [
                asyncio.create_task(sse_client(api, seen, event))
                for seen, event in zip(streams, ready, strict=True)
            ]
            try:
                async with asyncio.timeout(90):
                    for event in ready:
                        await event.wait()
                await one_round(api, client, streams, 1, poll_seconds)  # warm-up, not counted
                results = []
                print(
                    f"GET /logs/stream, {clients} clients, against polling GET /jobs/{{id}}/logs every "
                    f"{poll_seconds:g} s; {jobs} deploy jobs per round (local cloud operations "
                    f"{lro:g} s); feed: job_log_record_seconds={settings.job_log_record_seconds:g}, "
                    f"log_stream_poll_seconds={settings.log_stream_poll_seconds:g}"
                )
                print(
                    f"{'round':8}{'lines':>7}{'SSE p50':>10}{'SSE p99':>10}{'poll p50':>10}"
                    f"{'poll p99':>10}{'p99 ratio':>11}"
                )
                for number in range(1, rounds + 1):
                    sse_ms, poll_ms, task_ms = await one_round(
                        api, client, streams, jobs, poll_seconds
                    )
                    row = (
                        percentile(sse_ms, 0.5),
                        percentile(sse_ms, 0.99),
                        percentile(poll_ms, 0.5),
                        percentile(poll_ms, 0.99),
                        percentile(task_ms, 0.5),
                    )
                    results.append(row)
                    print(
                        f"{number:<8}{len(task_ms):>7}{row[0]:>10.1f}{row[1]:>10.1f}{row[2]:>10.1f}"
                        f"{row[3]:>10.1f}{row[1] / row[3]:>10.2f}×{row[4]:>9.1f}"
                    )
            finally:
                for task in readers:
                    task.cancel()
        s50, s99, p50, p99, t50 = (median(r[i] for r in results) for i in range(5))
        print(
            f"{'median':8}{'':>7}{s50:>10.1f}{s99:>10.1f}{p50:>10.1f}{p99:>10.1f}{s99 / p99:>10.2f}×"
            f"{t50:>9.1f}"
        )
        print(
            "(task p50: of each latency, the workflow task that logs the line, from its start, "
            "the line's time, to its end, when the line can first be read)"
        )
        met = s99 <= TARGET_MS and s99 < p99
        print(
            f"SSE p99 {s99:.1f} ms, {s99 / p99:.2f}× polling's {p99:.1f} ms (p50 {s50:.1f} against "
            f"{p50:.1f} ms): target (p99 ≤ {TARGET_MS:g} ms and below polling) "
            f"{'met' if met else 'not met'}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--poll-seconds", type=float, default=1.0)
    parser.add_argument("--lro-delay", type=float, default=0.5)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.clients, args.jobs, args.poll_seconds, args.lro_delay))
