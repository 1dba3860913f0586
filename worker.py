"""The platform's Temporal worker: registers every workflow and activity on the task queue."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Sequence
from datetime import timedelta

import structlog
from temporalio.client import Client
from temporalio.worker import Interceptor, Replayer, Worker

import activities.hosting.vms
import activities.oversight
import activities.provisioning
import activities.runners
import workflows.hosting.vm_catalog
import workflows.oversight.catalog
import workflows.provisioning.catalog
import workflows.runners.catalog
from activities.jobs import JobActivities
from core.local_keys import LocalKeyError, with_local_keys
from core.logging import configure_logging, forward_temporal_core_logs, quiet_sandbox_warnings
from core.settings import Settings, get_settings
from store.db import Database
from temporal.client import connect, data_converter
from temporal.interceptors import JobLoggingInterceptor
from temporal.keep_alive import KeepAliveInterceptor
from temporal.sandbox import workflow_runner
from workflows.cleanup import CleanupAfterTerminate
from workflows.resource_lock import ResourceLock

# Each system registers its workflows and its activities; the worker only collects them.
SYSTEMS = [
    (workflows.provisioning.catalog.WORKFLOWS, activities.provisioning.activities),
    (workflows.runners.catalog.WORKFLOWS, activities.runners.activities),
    (workflows.oversight.catalog.WORKFLOWS, activities.oversight.activities),
    (workflows.hosting.vm_catalog.WORKFLOWS, activities.hosting.vms.activities),
]
# The shared job machinery's own: the lock that makes jobs on one resource take turns, and the
# cleanup job that follows a force-cancel.
WORKFLOWS = [
    ResourceLock,
    CleanupAfterTerminate,
    *(workflow for system_workflows, _ in SYSTEMS for workflow in system_workflows),
]

log = structlog.get_logger(__name__)


def activities_for(settings: Settings, db: Database) -> list:
    return [fn for _, system_activities in SYSTEMS for fn in system_activities(settings, db)]


def build_worker(
    client: Client,
    settings: Settings,
    db: Database,
    task_queue: str | None = None,
    extra_interceptors: Sequence[Interceptor] = (),
):
    """The platform's worker. `extra_interceptors` run inside the logging one: the fault harness
    (tests/harness) adds its fault injector there, so it faults exactly this worker."""
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=WORKFLOWS,
        activities=[*JobActivities(client, settings).all(), *activities_for(settings, db)],
        interceptors=[JobLoggingInterceptor(), KeepAliveInterceptor(), *extra_interceptors],
        workflow_runner=workflow_runner(),
        max_concurrent_activities=settings.worker_max_concurrent_activities,
        max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_graceful_shutdown_seconds),
        sticky_queue_schedule_to_start_timeout=timedelta(
            seconds=settings.worker_sticky_queue_timeout_seconds
        ),
    )


def build_replayer(settings: Settings) -> Replayer:
    """Replays recorded histories on the worker's own workflows, sandbox and codec."""
    return Replayer(
        workflows=WORKFLOWS,
        data_converter=data_converter(settings),
        interceptors=[JobLoggingInterceptor()],
        workflow_runner=workflow_runner(),
    )


async def main() -> None:
    configure_logging()
    # The codec key comes from settings or the data dir (created there if this process is the first
    # to need it): a worker started by hand encrypts like the rest of the platform, or refuses to run.
    try:
        settings = with_local_keys(get_settings())
    except LocalKeyError as error:
        raise SystemExit(f"worker: cannot start without the payload codec key: {error}") from None
    quiet_sandbox_warnings()
    forward_temporal_core_logs()
    db = Database(settings.resolved_database_url)
    client = await connect(settings)
    worker = build_worker(client, settings, db)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker started", task_queue=settings.task_queue, temporal=settings.temporal_address)
    async with worker:
        await stop.wait()
    await db.dispose()
    log.info("worker stopped")


if __name__ == "__main__":
    asyncio.run(main())
    # See core.logging.forward_temporal_core_logs: no interpreter finalization under the core.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
