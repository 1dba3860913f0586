"""What waiting for a job costs the platform: a client that polls `GET /api/v1/jobs/{id}` every
0.2 s against one that asks `GET /api/v1/jobs/{id}?wait=20` (the API holds the answer until the
job has settled). Each round runs the same batch of deploys (each held ~2 s by a slow Cloud Run
create in the local cloud) once per way, alternating which goes first, and reads the dev server's,
the worker's and the API's CPU (utime + stime, from /proc, with their children) around each
batch. Prints each round's CPU per job, and the median over rounds of the wait's CPU as a ratio of
the polling's (below 1: the wait costs less).

    python -m bench.job_wait --jobs 10 --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid

import httpx

from bench.finished_job_read import cpu_seconds
from bench.running_platform import ADMIN_KEY, bench_platform

_FINAL = {"completed", "failed", "cancelled"}
POLL_SECONDS = 0.2
CREATE_LATENCY_MS = 2000


async def _deploy(api: httpx.AsyncClient, cloud, tag: str) -> str:
    name = f"bench-wait-{tag}-{uuid.uuid4().hex[:6]}"
    cloud.delay_next("POST", f"serviceId={name}", CREATE_LATENCY_MS)
    started = await api.post(
        "/api/v1/services/deploy",
        json={"service_name": name, "image": "us-docker.pkg.dev/cloudrun/container/hello:latest"},
    )
    assert started.status_code == 202, started.text
    return started.json()["job_id"]


async def _polled(api: httpx.AsyncClient, job_id: str) -> str:
    while True:
        job = (await api.get(f"/api/v1/jobs/{job_id}")).json()
        if job["status"] in _FINAL:
            return job["status"]
        await asyncio.sleep(POLL_SECONDS)


async def _waited(api: httpx.AsyncClient, job_id: str) -> str:
    while True:
        job = (await api.get(f"/api/v1/jobs/{job_id}", params={"wait": 20})).json()
        if job["status"] in _FINAL:
            return job["status"]


async def _batch(platform, api, cloud, jobs: int, way: str) -> tuple[dict[str, float], float]:
    wait_for = _polled if way == "poll" else _waited
    before = {name: cpu_seconds(pid) for name, pid in platform.pids.items()}
    began = time.perf_counter()

    async def one(index: int) -> None:
        job_id = await _deploy(api, cloud, f"{way}{index}")
        assert await wait_for(api, job_id) == "completed", job_id

    await asyncio.gather(*(one(index) for index in range(jobs)))
    wall = time.perf_counter() - began
    after = {name: cpu_seconds(pid) for name, pid in platform.pids.items()}
    return {name: (after[name] - before[name]) / jobs for name in before}, wall


async def main(jobs: int, rounds: int) -> None:
    ratios = []
    async with (
        bench_platform("job-wait") as platform,
        httpx.AsyncClient(
            base_url=platform.api_url, headers={"X-API-Key": ADMIN_KEY}, timeout=60
        ) as api,
    ):
        await _batch(platform, api, platform.cloud, 2, "poll")  # warm-up: imports, first jobs
        for round_ in range(rounds):
            ways = ("poll", "wait") if round_ % 2 == 0 else ("wait", "poll")
            cost = {}
            for way in ways:
                per_job, wall = await _batch(platform, api, platform.cloud, jobs, way)
                cost[way] = sum(per_job.values())
                shown = {name: round(seconds * 1000) for name, seconds in per_job.items()}
                print(
                    f"round {round_ + 1} {way}: {jobs} deploys in {wall:.1f} s, "
                    f"ms of CPU per job {shown}, total {cost[way] * 1000:.0f}"
                )
            ratios.append(cost["wait"] / cost["poll"])
        print(
            f"wait / poll, CPU per job (dev server + worker + API), median of {rounds} rounds: "
            f"{statistics.median(ratios):.2f} (rounds: {', '.join(f'{r:.2f}' for r in ratios)})"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.jobs, arguments.rounds))
