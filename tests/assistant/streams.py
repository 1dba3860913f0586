"""Reading the assistant's chat streams in tests: SSE events from an httpx response."""

from __future__ import annotations

import json
from typing import Any

import httpx


async def sse_events(response: httpx.Response) -> list[dict[str, Any]]:
    """The stream's events (`data` as JSON, checked against its `id:` line) until it ends."""
    events: list[dict[str, Any]] = []
    event_id: str | None = None
    async for line in response.aiter_lines():
        if line.startswith("id: "):
            event_id = line[4:]
        elif line.startswith("data: "):
            event = json.loads(line[6:])
            assert str(event["id"]) == event_id
            events.append(event)
    return events


async def stream_turn(http: httpx.AsyncClient, conversation: str, message: str):
    """The events of a streamed turn, and its job id."""
    async with http.stream(
        "POST",
        "/api/chat",
        json={"conversation_id": conversation, "message": message, "stream": True},
    ) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        return await sse_events(response), response.headers["x-job-id"]
