"""The platform's Temporal worker: serves the systems it is told (`--systems`, default all), each system's
workflows and activities on that system's own task queue, and the core queue."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from datetime import timedelta

import structlog
from temporalio.client import Client
from temporalio.worker import Interceptor, Replayer, Worker

import activities.assistant
import activities.hosting
import activities.oversight
import activities.provisioning
import activities.runners
import workflows.assistant.catalog
import workflows.hosting.catalog
import workflows.oversight.catalog
import workflows.provisioning.catalog
import workflows.runners.catalog
from activities.events import EventActivities
from activities.jobs import JobActivities
from contracts import task_queues
from core import tracing
from core.local_keys import LocalKeyError, with_local_keys
from core.logging import configure_logging, forward_temporal_core_logs, quiet_sandbox_warnings
from core.settings import Settings, get_settings
from store.db import Database
from temporal.client import connect, data_converter
from temporal.interceptors import JobLoggingInterceptor
from temporal.keep_alive import KeepAliveInterceptor
from temporal.metrics import worker_runtime
from temporal.sandbox import workflow_runner
from workflows.cleanup import CleanupAfterTerminate
from workflows.resource_lock import ResourceLock

# Each system registers its workflows and its activities; the worker only collects them, and serves
# each system on its own task queue (contracts/task_queues.py).
SYSTEMS: dict[str, tuple[list, Callable[[Settings, Database], list]]] = {
    task_queues.PROVISIONING: (
        workflows.provisioning.catalog.WORKFLOWS,
        activities.provisioning.activities,
    ),
    task_queues.RUNNERS: (workflows.runners.catalog.WORKFLOWS, activities.runners.activities),
    task_queues.OVERSIGHT: (workflows.oversight.catalog.WORKFLOWS, activities.oversight.activities),
    task_queues.HOSTING: (workflows.hosting.catalog.WORKFLOWS, activities.hosting.activities),
    task_queues.ASSISTANT: (workflows.assistant.catalog.WORKFLOWS, activities.assistant.activities),
}
# The shared job machinery's own, on the core queue every worker serves: the lock that makes jobs
# on one resource take turns, and the cleanup job that follows a force-cancel.
CORE_WORKFLOWS = [ResourceLock, CleanupAfterTerminate]
WORKFLOWS = [
    *CORE_WORKFLOWS,
    *(workflow for system_workflows, _ in SYSTEMS.values() for workflow in system_workflows),
]

log = structlog.get_logger(__name__)


def activities_for(settings: Settings, db: Database, systems: Sequence[str] | None = None) -> list:
    return [
        fn
        for system, (_, system_activities) in SYSTEMS.items()
        if systems is None or system in systems
        for fn in system_activities(settings, db)
    ]


class PlatformWorker:
    """The Temporal Workers of one worker process, one per task queue it serves: `async with` runs
    them all, and stops them all."""

    def __init__(self, workers: dict[str, Worker]) -> None:
        self.workers = workers
        self._running: AsyncExitStack | None = None

    @property
    def task_queues(self) -> list[str]:
        return list(self.workers)

    async def __aenter__(self) -> PlatformWorker:
        async with AsyncExitStack() as stack:
            for worker in self.workers.values():
                await stack.enter_async_context(worker)
            self._running = stack.pop_all()
        return self

    async def __aexit__(self, *exc) -> None:
        running, self._running = self._running, None
        if running is None:
            return
        # The SDK says "Beginning worker shutdown" once per Worker, a line per queue: one says it.
        sdk_log = logging.getLogger("temporalio.worker._worker")
        level = sdk_log.level
        sdk_log.setLevel(logging.WARNING)
        first = next(iter(self.workers.values()))
        log.info(
            "worker stopping",
            task_queues=self.task_queues,
            grace_seconds=first.config()["graceful_shutdown_timeout"].total_seconds(),
        )
        try:
            await running.__aexit__(*exc)
        finally:
            sdk_log.setLevel(level)


def build_worker(
    client: Client,
    settings: Settings,
    db: Database,
    systems: Sequence[str] | None = None,
    extra_interceptors: Sequence[Interceptor] = (),
) -> PlatformWorker:
    """The platform's worker for `systems` (default: all): a Worker on each system's queue, one on
    the core queue, and, when it serves every system, one on the legacy queue (see
    `worker_serve_legacy_queue`). `extra_interceptors` run inside the logging one: the fault
    harness (tests/harness) adds its fault injector there, so it faults exactly this worker."""
    systems = list(task_queues.SYSTEMS if systems is None else systems)
    prefix = settings.task_queue
    # Every job asks for its turn on its subject from its own queue, so every Worker has these.
    jobs = [*JobActivities(client, settings).all(), *EventActivities(client, settings, db).all()]

    def worker(queue: str, workflows: list, activities: list) -> Worker:
        return Worker(
            client,
            task_queue=queue,
            workflows=workflows,
            activities=[*jobs, *activities],
            interceptors=[JobLoggingInterceptor(), KeepAliveInterceptor(), *extra_interceptors],
            workflow_runner=workflow_runner(),
            max_concurrent_activities=settings.worker_max_concurrent_activities,
            max_concurrent_workflow_tasks=settings.worker_max_concurrent_workflow_tasks,
            graceful_shutdown_timeout=timedelta(seconds=settings.worker_graceful_shutdown_seconds),
            sticky_queue_schedule_to_start_timeout=timedelta(
                seconds=settings.worker_sticky_queue_timeout_seconds
            ),
        )

    workers = {
        task_queues.queue(prefix, task_queues.CORE): worker(
            task_queues.queue(prefix, task_queues.CORE), CORE_WORKFLOWS, []
        )
    }
    for system in systems:
        system_workflows, system_activities = SYSTEMS[system]
        queue = task_queues.queue(prefix, system)
        workers[queue] = worker(queue, system_workflows, system_activities(settings, db))
    if settings.worker_serve_legacy_queue and set(systems) == set(task_queues.SYSTEMS):
        # Jobs started before the split: any type, calling any activity on their own queue.
        workers[prefix] = worker(prefix, WORKFLOWS, activities_for(settings, db))
    return PlatformWorker(workers)


def parse_args(argv: Sequence[str] | None = None) -> list[str]:
    """The systems this process serves (`--systems provisioning,runners`; default: all)."""
    parser = argparse.ArgumentParser(
        prog="worker.py",
        description="The platform's Temporal worker: one Worker per task queue of the systems "
        "it serves, plus the core queue.",
    )
    parser.add_argument(
        "--systems",
        default=None,
        help=f"comma-separated systems to serve (default: all of {','.join(task_queues.SYSTEMS)})",
    )
    args = parser.parse_args(argv)
    try:
        return task_queues.parse_systems(args.systems)
    except ValueError as error:
        parser.error(str(error))


def build_replayer(settings: Settings) -> Replayer:
    """Replays recorded histories on the worker's own workflows, sandbox and codec."""
    return Replayer(
        workflows=WORKFLOWS,
        data_converter=data_converter(settings),
        interceptors=[JobLoggingInterceptor()],
        workflow_runner=workflow_runner(),
    )


async def main(systems: list[str]) -> None:
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
    client = await connect(settings, runtime=worker_runtime(settings))
    worker = build_worker(client, settings, db, systems)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with worker:
        log.info(
            "worker started",
            systems=systems,
            task_queues=worker.task_queues,
            temporal=settings.temporal_address,
        )
        await stop.wait()
    await db.dispose()
    # Before os._exit: the spans still queued for the collector.
    await asyncio.to_thread(tracing.shutdown)
    log.info("worker stopped")


if __name__ == "__main__":
    # Before anything connects: an unknown system is a usage error (exit status 2), not a crash.
    asyncio.run(main(parse_args()))
    # See core.logging.forward_temporal_core_logs: no interpreter finalization under the core.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
