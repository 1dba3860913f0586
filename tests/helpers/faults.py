"""Waiting for a local cloud fault to hit its own job's request, so a test acts (cancels, kills a
worker) while that request is really held, whatever the machine's load."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from localcloud.testing import LocalCloud


async def wait_until_fired(
    cloud: LocalCloud, fault: dict[str, Any], times: int = 1, seconds: float = 30
) -> int:
    deadline = time.monotonic() + seconds
    while (fired := await asyncio.to_thread(cloud.fired, fault)) < times:
        assert time.monotonic() < deadline, f"fault {fault['id']} fired {fired} of {times} times"
        await asyncio.sleep(0.1)
    return fired
