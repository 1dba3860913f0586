"""The Server-Sent Events writer the API's streams share (`GET /logs/stream`, the assistant's chat
streams): one event's text, the keep-alive comment, the reconnect delay, and the response."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi.responses import StreamingResponse

# How long a client waits before reconnecting after the connection drops (the SSE `retry:`).
RETRY_MILLISECONDS = 2000
RETRY = f"retry: {RETRY_MILLISECONDS}\n\n"
KEEPALIVE = ": keep-alive\n\n"


def event(event_id: int | str, data: dict[str, Any], name: str | None = None) -> str:
    """One event: `id`, the `event` name when given (without one a browser's EventSource hands
    it to `onmessage`), and its JSON `data` on one line."""
    text = json.dumps(data, ensure_ascii=False, separators=(", ", ": "), default=str)
    head = f"id: {event_id}\n" + (f"event: {name}\n" if name else "")
    return f"{head}data: {text}\n\n"


def response(
    stream: AsyncIterator[str], headers: dict[str, str] | None = None
) -> StreamingResponse:
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        # No cache, and no buffering by a proxy in front (nginx reads X-Accel-Buffering).
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no", **(headers or {})},
    )
