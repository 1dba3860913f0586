"""Counts the requests the emulator served, for tests that prove a step did (not) run again."""

from __future__ import annotations

import threading
from collections import deque

# Bounded: a long `make run` must not grow without end; tests count far fewer.
_KEPT = 20_000


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: deque[tuple[str, str]] = deque(maxlen=_KEPT)

    def record(self, method: str, path: str, query: str = "") -> None:
        if path.startswith("/_localcloud"):
            return
        # With the query: a create names its resource there (`?serviceId=hello`).
        target = f"{path}?{query}" if query else path
        with self._lock:
            self._seen.append((method.upper(), target))

    def count(self, method: str | None, path_contains: str | None) -> int:
        with self._lock:
            return sum(
                1
                for seen_method, path in self._seen
                if (not method or seen_method == method.upper())
                and (not path_contains or path_contains in path)
            )

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()
