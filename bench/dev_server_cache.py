"""The dev server's CPU per job with its search attributes read from its store on every use (its
default) and kept cached (`search_attributes.CACHED_FLAGS`, what `make run` and the tests start).

Each round starts one dev server of each kind in turn, with the platform's search attributes, and
runs the same batches of job-shaped workflows on it: five steps, each a phase change (the job's
memo), a `ConneskillsJobPhase` upsert and an activity, as `workflows/tracking.py` does. It reads the
dev server's CPU time (utime + stime, from /proc) around the batches and prints each round's figures
and the median ratio cached / default.

    python -m bench.dev_server_cache --rounds 5 --jobs 300
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio import activity, workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench.finished_job_read import child_pids, cpu_seconds
from temporal import search_attributes as sa
from temporal.binaries import temporal_cli

_QUEUE = "bench-dev-server-cache"
_BATCH = 30
# What the platform sets on every job it starts (api/job_engine.py).
_START_ATTRIBUTES = TypedSearchAttributes(
    [
        SearchAttributePair(sa.OPERATION, "bench"),
        SearchAttributePair(sa.SUBJECT, "service:bench"),
        SearchAttributePair(sa.JOB_PHASE, "queued"),
    ]
)


def _dev_server_pid() -> int:
    """The dev server this process started (the SDK runs it as a child)."""
    for pid in child_pids(os.getpid()):
        if "start-dev" in Path(f"/proc/{pid}/cmdline").read_text():
            return pid
    raise RuntimeError("no dev server among this process's children")


@activity.defn
async def bench_step(index: int) -> int:
    return index


@workflow.defn(sandboxed=False)
class BenchJob:
    @workflow.run
    async def run(self) -> int:
        for index in range(5):
            workflow.upsert_memo({"job": {"phase": f"step {index}", "progress": index * 20}})
            workflow.upsert_search_attributes([sa.JOB_PHASE.value_set("running")])
            await workflow.execute_activity(
                bench_step, index, start_to_close_timeout=timedelta(seconds=30)
            )
        return 5


async def _dev_server_cpu(cached: bool, jobs: int) -> float:
    """Seconds of the dev server's CPU for `jobs` jobs, in batches of _BATCH at once."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli(),
        search_attributes=list(sa.ALL),
        dev_server_extra_args=list(sa.CACHED_FLAGS) if cached else [],
        dev_server_log_level="error",
        ui=False,
    )
    try:
        server_pid = _dev_server_pid()
        async with Worker(
            env.client, task_queue=_QUEUE, workflows=[BenchJob], activities=[bench_step]
        ):
            before = cpu_seconds(server_pid)
            for start in range(0, jobs, _BATCH):
                handles = await asyncio.gather(
                    *(
                        env.client.start_workflow(
                            BenchJob.run,
                            id=f"bench-{uuid.uuid4()}",
                            task_queue=_QUEUE,
                            search_attributes=_START_ATTRIBUTES,
                        )
                        for _ in range(min(_BATCH, jobs - start))
                    )
                )
                await asyncio.gather(*(handle.result() for handle in handles))
            return cpu_seconds(server_pid) - before
    finally:
        await env.shutdown()


async def main(rounds: int, jobs: int) -> None:
    ratios = []
    for number in range(1, rounds + 1):
        default = await _dev_server_cpu(False, jobs)
        cached = await _dev_server_cpu(True, jobs)
        ratios.append(cached / default)
        print(
            f"round {number}: default {default:.2f} s ({1000 * default / jobs:.1f} ms a job), "
            f"cached {cached:.2f} s ({1000 * cached / jobs:.1f} ms a job), "
            f"ratio {cached / default:.3f}",
            flush=True,
        )
    print(f"median ratio cached / default over {rounds} rounds: {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=300)
    options = parser.parse_args()
    asyncio.run(main(options.rounds, options.jobs))
