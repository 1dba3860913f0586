"""The assistant's streamed chat turn: how soon its first event reaches the client, and how much of
the turn's time is orchestration rather than the LLM calls and tool calls themselves.

Starts its own dev server, local cloud, worker and API (as bench/hosting.py does), then runs
`--rounds` streamed turns (`POST /api/chat` with `stream: true`, each in a new conversation) whose
message makes the local cloud's LLM emulator call two tools in sequence ("Lista los jobs luego lista
los servicios": LLM → list_jobs → LLM → list_services → LLM answer; both tools read this platform's
API). Per turn it measures, on the client's clock:

- **first event**: from sending the request to the first SSE event (`data:`, the turn's first
  `thinking`); target ≤ 100 ms;
- **total**: from sending the request to the `done` event;
- **headers** (for reading the first): from sending the request to the response's headers, when
  the API has started the turn's job;

and, from the turn's workflow history, **LLM+tool**: the sum of the turn's LLM activities'
(`assistant.complete`) and tool activities' (`assistant.run_tool`) own durations, each from its
ActivityTaskStarted to its ActivityTaskCompleted. **Overhead** = total / LLM+tool − 1: everything
else (starting the job, reading and saving the conversation, workflow tasks, scheduling each
activity, the stream's polling of the turn); target ≤ 15 %. The emulator answers in milliseconds,
where a real model takes seconds: `--llm-latency-ms N` adds N ms to each LLM call (a local cloud
latency fault on the chat completions path) to show the same turn with a model's pace.

Prints per-round rows, medians, the load average (the machine is shared) and met / not met per
target. docs/benchmarks.md explains how to read the figures.

    python bench/assistant.py [--rounds 10] [--llm-latency-ms 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from statistics import median

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.running_platform import ADMIN_KEY, bench_platform  # noqa: E402
from contracts.assistant.names import TurnSteps  # noqa: E402

MESSAGE = "Lista los jobs luego lista los servicios"
EXPECTED = ["thinking", "tool_call", "tool_result"] * 2 + ["thinking", "message", "done"]
TOOLS = ["list_jobs", "list_services"]
FIRST_EVENT_TARGET_MS = 100.0
OVERHEAD_TARGET = 0.15
MEASURED = (TurnSteps.COMPLETE, TurnSteps.RUN_TOOL)
# job id -> (request sent, `done` received), wall clock (the dev server's clock: same machine)
WALL: dict[str, tuple[float, float]] = {}
_CLOSED = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED
LOCAL_MARKER = "core_local_activity"


async def streamed_turn(api: httpx.AsyncClient) -> tuple[str, float, float, float]:
    """One streamed turn in a new conversation: (job id, headers ms, first event ms, total ms)."""
    created = await api.post("/api/conversations", json={"title": "bench"})
    created.raise_for_status()
    body = {"conversation_id": created.json()["id"], "message": MESSAGE, "stream": True}
    events: list[dict] = []
    first = None
    sent = time.time()
    started = time.perf_counter()
    async with api.stream("POST", "/api/chat", json=body) as response:
        response.raise_for_status()
        headers = time.perf_counter()
        job_id = response.headers["x-job-id"]
        async for line in response.aiter_lines():
            if not line.startswith("data: "):
                continue
            if first is None:
                first = time.perf_counter()
            events.append(json.loads(line[6:]))
            if events[-1]["type"] in ("done", "error"):
                break
    ended = time.perf_counter()
    WALL[job_id] = (sent, time.time())
    kinds = [e["type"] for e in events]
    called = [e["tool"] for e in events if e["type"] == "tool_call"]
    if kinds != EXPECTED or called != TOOLS:
        raise SystemExit(f"unexpected turn {job_id}: {kinds} {called} {events[-1]}")
    assert first is not None
    return job_id, (headers - started) * 1000, (first - started) * 1000, (ended - started) * 1000


async def activity_ms(
    client: Client, job_id: str
) -> tuple[float, float, int, dict[str, float], tuple[int, int]]:
    """From the turn's history: the sum of its LLM and tool activities' durations (started →
    completed), the sum of all its activities', how many LLM and tool activities ran, where
    the rest of the total went (ms): before the job's start event, waiting in task queues (tasks
    and activities scheduled → started), workflow tasks (started → completed, local activities
    included: they run inside them), the other (regular) activities, and from the turn's end to
    the client's `done`; and the turn's shape: its workflow tasks and its local activities."""
    history = await client.get_workflow_handle(job_id).fetch_history()
    kind_of: dict[int, str] = {}
    scheduled_at: dict[int, float] = {}
    started_at: dict[int, float] = {}
    measured = every = queued = tasks = 0.0
    count = task_count = local_count = 0
    first_at = closed_at = 0.0
    for event in history.events:
        at = event.event_time.ToNanoseconds() / 1e6
        kind = event.event_type
        if not first_at:
            first_at = at
        if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attributes = event.activity_task_scheduled_event_attributes
            kind_of[event.event_id] = attributes.activity_type.name
            scheduled_at[event.event_id] = at
        elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
            scheduled_at[event.event_id] = at
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            scheduled = event.activity_task_started_event_attributes.scheduled_event_id
            started_at[scheduled] = at
            queued += at - scheduled_at[scheduled]
        elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            scheduled = event.workflow_task_started_event_attributes.scheduled_event_id
            started_at[scheduled] = at
            queued += at - scheduled_at[scheduled]
        elif kind == EventType.EVENT_TYPE_MARKER_RECORDED:
            local_count += event.marker_recorded_event_attributes.marker_name == LOCAL_MARKER
        elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            task_count += 1
            tasks += (
                at - started_at[event.workflow_task_completed_event_attributes.scheduled_event_id]
            )
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            scheduled = event.activity_task_completed_event_attributes.scheduled_event_id
            took = at - started_at[scheduled]
            every += took
            if kind_of[scheduled] in MEASURED:
                measured += took
                count += 1
        elif kind == _CLOSED:
            closed_at = at
    sent, done = WALL[job_id]
    parts = {
        "before start": first_at - sent * 1000,
        "queued": queued,
        "workflow tasks": tasks,
        "other activities": every - measured,
        "after end": done * 1000 - closed_at,
    }
    return measured, every, count, parts, (task_count, local_count)


def load() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


async def main(rounds: int, llm_latency_ms: int) -> None:
    async with bench_platform("assistant") as platform:
        cloud, client = platform.cloud, platform.client
        if llm_latency_ms:
            cloud.inject_fault(
                fail_next=0,
                code=None,
                method="POST",
                path_contains="/chat/completions",
                latency_ms=llm_latency_ms,
            )
        async with httpx.AsyncClient(
            base_url=platform.api_url, headers={"X-API-Key": ADMIN_KEY}, timeout=120
        ) as api:
            await streamed_turn(api)  # warm-up (worker caches, first connections), not counted
            print(
                f"streamed turns: {MESSAGE!r} (LLM → {' → LLM → '.join(TOOLS)} → LLM), LLM "
                f"emulator + {llm_latency_ms} ms a call; load average {load()}"
            )
            print(
                f"{'round':7}{'headers':>11}{'first event':>13}{'total':>10}{'LLM+tool':>10}{'overhead':>10}"
                f"{'all activities':>16}   load"
            )
            rows = []
            breakdowns: list[dict[str, float]] = []
            shapes: set[tuple[int, int]] = set()
            for number in range(1, rounds + 1):
                job_id, headers_ms, first_ms, total_ms = await streamed_turn(api)
                measured, every, count, parts, shape = await activity_ms(client, job_id)
                breakdowns.append(parts)
                shapes.add(shape)
                if count != 5:
                    raise SystemExit(f"{job_id}: {count} LLM/tool activities, not 5")
                overhead = total_ms / measured - 1
                rows.append((headers_ms, first_ms, total_ms, measured, overhead, every))
                print(
                    f"{number:<7}{headers_ms:>8.1f} ms{first_ms:>10.1f} ms{total_ms:>7.0f} ms{measured:>7.0f} ms"
                    f"{overhead:>9.0%}{every:>13.0f} ms   {load()}"
                )
        headers_ms, first_ms, total_ms, measured, overhead, every = (
            median(r[i] for r in rows) for i in range(6)
        )
        print(
            f"{'median':7}{headers_ms:>8.1f} ms{first_ms:>10.1f} ms{total_ms:>7.0f} ms{measured:>7.0f} ms"
            f"{overhead:>9.0%}{every:>13.0f} ms   {load()}"
        )
        print(
            "where the rest went (medians): "
            + ", ".join(f"{k} {median(b[k] for b in breakdowns):.0f} ms" for k in breakdowns[0])
        )
        print(
            "a turn: "
            + ", ".join(f"{t} workflow tasks, {n} local activities" for t, n in sorted(shapes))
        )
        print(
            f"first event {first_ms:.1f} ms: target (≤ {FIRST_EVENT_TARGET_MS:g} ms) "
            f"{'met' if first_ms <= FIRST_EVENT_TARGET_MS else 'not met'}"
        )
        print(
            f"orchestration overhead {overhead:.0%} (total {total_ms:.0f} ms over {measured:.0f} ms "
            f"of LLM and tool activities): target (≤ {OVERHEAD_TARGET:.0%}) "
            f"{'met' if overhead <= OVERHEAD_TARGET else 'not met'}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--llm-latency-ms", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.llm_latency_ms))
