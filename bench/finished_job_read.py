"""The CPU a read of a finished job costs each process of the platform: runs one deploy to its end,
then GETs it (`/api/v1/jobs/{id}`, then its `/logs`) N times in a row, and reads the dev server's,
the worker's and the API's CPU time (utime + stime, from /proc, with their children) before and
after each batch.

    python -m bench.finished_job_read --reads 200 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path

import httpx

from bench.running_platform import ADMIN_KEY, bench_platform

_TICK = os.sysconf("SC_CLK_TCK")


def child_pids(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def cpu_seconds(pid: int) -> float:
    """The process's and its descendants' (alive) CPU time."""
    total = 0.0
    for one in [pid, *_descendants(pid)]:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        # utime and stime are the 14th and 15th fields of the line (12th and 13th after the name).
        total += (int(fields[11]) + int(fields[12])) / _TICK
    return total


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        children = child_pids(todo.pop())
        found += children
        todo += children
    return found


_FINAL = ("completed", "failed", "cancelled")


async def main(reads: int, rounds: int) -> None:
    async with (
        bench_platform("finished-read") as platform,
        httpx.AsyncClient(
            base_url=platform.api_url, headers={"X-API-Key": ADMIN_KEY}, timeout=60
        ) as api,
    ):
        job_id = await _finished_deploy(api)
        await asyncio.sleep(2)  # the job's last tasks and visibility settle
        for round_ in range(rounds):
            for what, path in (
                ("job", f"/api/v1/jobs/{job_id}"),
                ("logs", f"/api/v1/jobs/{job_id}/logs"),
            ):
                before = {name: cpu_seconds(pid) for name, pid in platform.pids.items()}
                began = time.perf_counter()
                for _ in range(reads):
                    response = await api.get(path)
                    assert response.status_code == 200, response.text
                wall = time.perf_counter() - began
                after = {name: cpu_seconds(pid) for name, pid in platform.pids.items()}
                per_read = {
                    name: round((after[name] - before[name]) / reads * 1000, 2) for name in before
                }
                print(
                    f"round {round_ + 1} {what}: {reads} reads, ms of CPU per read {per_read}, "
                    f"ms of wall per read {wall / reads * 1000:.2f}"
                )


async def _finished_deploy(api: httpx.AsyncClient) -> str:
    started = await api.post(
        "/api/v1/services/deploy",
        json={
            "service_name": f"bench-read-{os.getpid()}",
            "image": "us-docker.pkg.dev/cloudrun/container/hello:latest",
        },
    )
    assert started.status_code == 202, started.text
    job_id = started.json()["job_id"]
    for _ in range(600):
        job = (await api.get(f"/api/v1/jobs/{job_id}")).json()
        if job["status"] in _FINAL:
            break
        await asyncio.sleep(0.5)
    logs = (await api.get(f"/api/v1/jobs/{job_id}/logs")).json()
    print(f"job {job_id} {job['status']}: {logs['total']} log lines, live={job['live']}")
    return job_id


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.reads, arguments.rounds))
