"""Worker interceptor that keeps every async activity alive and settles it before a cancel ends it.

Every step runs with a heartbeat timeout. An activity awaiting one slow call that does not
heartbeat (an HTTP request to LiteLLM or Jira) would be timed out by the server while it still
runs; after a cancel that timeout counts as the cancel, and the job's compensation would then race
a create still in flight, which lands after the undo found nothing. So the worker heartbeats for
such an activity, and when a cancel reaches it lets it finish first: the workflow (waiting for the
cancellation to complete) undoes only once the outcome is known.

An activity that heartbeats by itself (a poll loop, a long wait, a call that beats with resume
details) owns its cancellation: the worker stops beating for it, so its details are never
overwritten, and forwards the cancel at once."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from temporalio.worker import (
    ActivityInboundInterceptor,
    ActivityOutboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

BEAT_SECONDS = 1.0


class _NoticesOwnHeartbeats(ActivityOutboundInterceptor):
    def __init__(self, next: ActivityOutboundInterceptor) -> None:
        super().__init__(next)
        self.beats_by_itself = False

    def heartbeat(self, *details: Any) -> None:
        self.beats_by_itself = True
        super().heartbeat(*details)


class _KeepAlive(ActivityInboundInterceptor):
    def init(self, outbound: ActivityOutboundInterceptor) -> None:
        self._outbound = _NoticesOwnHeartbeats(outbound)
        super().init(self._outbound)

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        if not asyncio.iscoroutinefunction(input.fn):
            return await self.next.execute_activity(input)
        body = asyncio.ensure_future(self.next.execute_activity(input))
        beating = asyncio.ensure_future(self._beat_until_it_beats())
        try:
            return await asyncio.shield(body)
        except asyncio.CancelledError:
            if self._outbound.beats_by_itself:
                body.cancel()
            # Either way the activity's own outcome is awaited: what it made is made before the
            # cancel is reported, and the workflow's undo finds it.
            with contextlib.suppress(BaseException):
                await body
            raise
        finally:
            beating.cancel()

    async def _beat_until_it_beats(self) -> None:
        while not self._outbound.beats_by_itself:
            await asyncio.sleep(BEAT_SECONDS)
            if not self._outbound.beats_by_itself:
                self._outbound.next.heartbeat()


class KeepAliveInterceptor(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _KeepAlive(next)
