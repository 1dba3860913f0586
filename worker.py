"""The platform's Temporal worker: registers every workflow and activity on the task queue."""

from __future__ import annotations

import asyncio
import signal

import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from activities.cloud_run import CloudRunActivities
from activities.registry import RegistryActivities
from activities.service_databases import ServiceDatabaseActivities
from core.local_keys import LocalKeyError, with_local_keys
from core.logging import configure_logging, quiet_sandbox_warnings
from core.settings import Settings, get_settings
from store.db import Database
from temporal.client import connect
from temporal.interceptors import JobLoggingInterceptor
from workflows.service_databases import CreateServiceDatabase
from workflows.services import DeployService, UndeployService

WORKFLOWS = [DeployService, UndeployService, CreateServiceDatabase]

log = structlog.get_logger(__name__)


def activities_for(settings: Settings, db: Database) -> list:
    cloud_run = CloudRunActivities(settings)
    registry = RegistryActivities(db)
    service_db = ServiceDatabaseActivities(settings, db)
    return [
        cloud_run.get_service,
        cloud_run.apply_service,
        cloud_run.restore_service,
        cloud_run.delete_service,
        cloud_run.get_invokers,
        cloud_run.set_invokers,
        cloud_run.restore_invokers,
        registry.upsert_service,
        registry.remove_service,
        registry.customer_for_service,
        service_db.check_preconditions,
        service_db.store_password,
        service_db.create_database,
        service_db.create_user,
        service_db.store_connection_string,
        service_db.drop_database,
        service_db.drop_user,
        service_db.delete_job_secret,
    ]


def build_worker(client: Client, settings: Settings, db: Database, task_queue: str | None = None):
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=WORKFLOWS,
        activities=activities_for(settings, db),
        interceptors=[JobLoggingInterceptor()],
        max_concurrent_activities=100,
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
