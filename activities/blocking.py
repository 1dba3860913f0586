"""Blocking client calls inside async activities: run in a thread, heartbeat while waiting, and on
cancel let the call finish first, so compensation never races a create that is still in flight."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

from temporalio import activity

from providers.google.errors import as_temporal_failures

T = TypeVar("T")
HEARTBEAT_SECONDS = 1.0


async def _heartbeat_forever(details: tuple[Any, ...]) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        activity.heartbeat(*details)


async def settle_in_thread(
    fn: Callable[..., T], *args: Any, heartbeat_details: tuple[Any, ...] = (), **kwargs: Any
) -> T:
    call = asyncio.ensure_future(asyncio.to_thread(fn, *args, **kwargs))
    # Without details to record the worker keeps the activity alive (temporal/keep_alive.py);
    # beating here would make it look like an activity that stops at its own heartbeats.
    beating = (
        asyncio.ensure_future(_heartbeat_forever(heartbeat_details)) if heartbeat_details else None
    )
    try:
        return await asyncio.shield(call)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await call
        raise
    finally:
        if beating is not None:
            beating.cancel()


async def call_google(
    what: str, fn: Callable[..., T], *args: Any, beat: tuple[Any, ...] = (), **kwargs: Any
) -> T:
    """A blocking Google client call from an activity: settled in a thread, heartbeating, its
    failure turned into a retryable or final Temporal failure described by `what`."""
    with as_temporal_failures(what):
        return await settle_in_thread(fn, *args, heartbeat_details=beat, **kwargs)
