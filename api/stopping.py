"""Tells the API's endless responses (the log streams) that the process is stopping.

Why. On SIGINT or SIGTERM uvicorn stops accepting connections, then waits for every open response
to end, and only then runs the app's lifespan shutdown. A log stream never ends by itself, so one
open stream held the process forever: `make run`'s Ctrl-C hung, and a replica being replaced
stayed until it was killed. uvicorn tells the app nothing before that wait; the signal is the
first (and only) news. So the app chains its own handler in front of uvicorn's: it runs the
registered callbacks on the event loop (the streams end at once, their clients reconnect to
another process, or to this one restarted, with `Last-Event-ID`), then hands the signal to
uvicorn's handler as if nothing had been in between (a second Ctrl-C still forces the exit).

Signals can be handled only in the main thread: an app served from another thread (the tests'
`ApiServer`) is told by whoever stops it, through `stop()`."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable
from types import FrameType

import structlog

log = structlog.get_logger(__name__)

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopping:
    def __init__(self) -> None:
        self._callbacks: list[Callable[[], None]] = []
        self._previous: dict[int, object] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.stopped = False

    def on_stop(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)

    def install(self) -> None:
        """In front of the handlers in place (uvicorn's, when it serves the app)."""
        self._loop = asyncio.get_running_loop()
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in SIGNALS:
            self._previous[sig] = signal.getsignal(sig)
            signal.signal(sig, self._handle)

    def uninstall(self) -> None:
        for sig, previous in self._previous.items():
            if signal.getsignal(sig) == self._handle:
                signal.signal(sig, previous)  # type: ignore[arg-type]
        self._previous.clear()

    def stop(self) -> None:
        """Runs the callbacks (once); on the event loop's thread."""
        if self.stopped:
            return
        self.stopped = True
        log.info("api stopping: ending the open log streams")
        for callback in self._callbacks:
            callback()

    def stop_threadsafe(self) -> None:
        """`stop()` from any thread (what stops an app served from a thread calls)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.stop)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.stop_threadsafe()
        previous = self._previous.get(signum)
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_DFL:
            # Nobody else handles it (not served by uvicorn): what the default would have done.
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)
