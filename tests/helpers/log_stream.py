"""Reading `GET /logs/stream` in tests: its SSE events, and one job's lines in the background."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import httpx

from tests.helpers.platform import wait_for_job


async def sse(response: httpx.Response) -> AsyncIterator[dict]:
    """The stream's events and comments, one dict each (`comment`, or `id`/`event`/`data`)."""
    event: dict = {}
    async for line in response.aiter_lines():
        if line.startswith(":"):
            yield {"comment": line[1:].strip()}
        elif not line:
            if event:
                yield event
            event = {}
        else:
            field, _, value = line.partition(":")
            event[field] = value.removeprefix(" ")


class JobLines:
    """Reads a stream's `log` events of one job in the background, into `lines`."""

    def __init__(self, response: httpx.Response, job_id: str) -> None:
        self.lines: list[dict] = []
        self._task = asyncio.create_task(self._read(response, job_id))

    async def _read(self, response: httpx.Response, job_id: str) -> None:
        async for event in sse(response):
            if event.get("event") == "log":
                line = {"id": int(event["id"]), **json.loads(event["data"])}
                if line["job_id"] == job_id:
                    self.lines.append(line)

    async def until(self, count: int, seconds: float = 60) -> list[dict]:
        async with asyncio.timeout(seconds):
            while len(self.lines) < count:
                await asyncio.sleep(0.05)
        return list(self.lines)

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def job_logs(http: httpx.AsyncClient, job_id: str) -> list[str]:
    """The job's whole log, once it has ended, as GET /jobs/{id}/logs has it."""
    await wait_for_job(http, job_id)
    answer = await http.get(f"/api/v1/jobs/{job_id}/logs", params={"lines": 1000})
    return answer.json()["logs"]
