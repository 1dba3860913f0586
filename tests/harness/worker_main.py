"""The harness's worker process: the platform's worker (worker.build_worker, as `python worker.py`
runs it) with the fault injector added. Started by the harness with the usual CONNESKILLS_* env vars
and HARNESS_FAULT_FILE; SIGKILLed by the kill cases."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from core.local_keys import with_local_keys
from core.logging import configure_logging, forward_temporal_core_logs, quiet_sandbox_warnings
from core.settings import get_settings
from store.db import Database
from temporal.client import connect
from tests.harness.fault_injector import FAULT_FILE_ENV, FaultInjector
from worker import build_worker


async def main() -> None:
    configure_logging()
    settings = with_local_keys(get_settings())
    quiet_sandbox_warnings()
    forward_temporal_core_logs()
    db = Database(settings.resolved_database_url)
    client = await connect(settings)
    injector = FaultInjector(Path(os.environ[FAULT_FILE_ENV]))
    worker = build_worker(client, settings, db, extra_interceptors=[injector])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        await stop.wait()
    await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
    # As worker.py: no interpreter finalization under the Temporal core.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
