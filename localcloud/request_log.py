"""Counts the requests the emulator served, for tests that prove a step did (not) run again."""

from __future__ import annotations

import threading
from collections import deque

from localcloud.request_match import is_control_plane, matches

# Bounded: a long `make run` must not grow without end; tests count far fewer.
_KEPT = 20_000


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: deque[tuple[str, str]] = deque(maxlen=_KEPT)

    def record(self, method: str, target: str) -> None:
        if is_control_plane(target):
            return
        with self._lock:
            self._seen.append((method.upper(), target))

    def count(self, method: str | None, path_contains: str | None) -> int:
        with self._lock:
            return sum(
                1
                for seen_method, target in self._seen
                if matches(seen_method, target, method, path_contains)
            )

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()
