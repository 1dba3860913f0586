"""FastAPI app factory: lifespan-owned database and Temporal client, error envelope, routers."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy.exc import IntegrityError

from api import openapi
from api.audit_trail import AuditTrail
from api.audit_writer import AuditWriter
from api.auth import key_cache
from api.deps import PlatformState
from api.docs import install_docs
from api.errors import install_error_handlers
from api.http import BodyLimit, include_routes
from api.job_engine import JobEngine
from api.job_gauges import JobGauges
from api.job_log_feed import JobLogFeed
from api.key_usage import KeyUsage
from api.logic.assistant.auth import ensure_first_admin
from api.logic.hosting.upload_sweep import sweep_forever
from api.logic.oversight.schedule import reaper_schedule
from api.logic.provisioning.drift_schedule import drift_schedule
from api.logic.runners.schedule import cleanup_schedule
from api.metrics import install_metrics
from api.routes import (
    api_keys,
    assistant,
    codec,
    crm,
    health,
    hosting,
    jobs,
    oversight,
    provisioning,
    runners,
)
from api.stopping import Stopping
from api.tracing import install_tracing
from contracts import task_queues
from core import tracing
from core.local_keys import LocalKeyError, with_local_keys
from core.logging import configure_logging
from core.settings import Settings, get_settings
from store import api_keys as key_store
from store.db import Database
from store.migrate import upgrade
from temporal.client import connect

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

log = structlog.get_logger(__name__)

DESCRIPTION = """ConneSkills Platform API. Multi-step operations answer **202** with a job whose id is
a Temporal workflow id; follow it at `/api/v1/jobs/{job_id}` or in the Temporal Web UI.
Authenticate with `X-API-Key: <key>` or `Authorization: Bearer <key>`."""


def create_app(
    settings: Settings | None = None, *, tracer_provider: TracerProvider | None = None
) -> FastAPI:
    """The API. `tracer_provider`: where its spans go; default, the process' own when
    `otel_exporter_otlp_endpoint` is set, else none (core/tracing.py)."""
    try:
        # Every process finds the generated keys itself (created if it is the first to need one).
        settings = with_local_keys(settings or get_settings(), admin=True)
    except LocalKeyError as error:
        raise SystemExit(f"api: cannot start without its keys: {error}") from None
    configure_logging()
    tracer_provider = tracer_provider or tracing.tracer_provider(settings, tracing.API)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # One process migrates (`make run`'s API); where replicas share the database a one-shot
        # `python -m store.migrate` has run before them (migrate_on_start off).
        if settings.migrate_on_start:
            await asyncio.to_thread(upgrade, settings.resolved_database_url)
        db = Database(settings.resolved_database_url)
        await _register_admin_key(db, settings.admin_api_key)
        await ensure_first_admin(db, settings)
        temporal = await connect(
            settings, lazy=True, fail_fast=True, tracer_provider=tracer_provider
        )
        audit = AuditWriter(db, settings.data_dir, settings.audit_queue_size)
        await audit.start()
        if metrics:
            metrics.watch_audit_queue(audit.depth)
        key_usage = KeyUsage(db, settings.api_key_usage_flush_seconds)
        await key_usage.start()
        job_logs = JobLogFeed(db, temporal, settings)
        # Revocations made through other API processes reach this one's key cache (api/auth.py).
        key_recheck = asyncio.create_task(
            key_cache(db).recheck_forever(db, settings.api_key_recheck_seconds),
            name="api-key-recheck",
        )
        # What refused or abandoned uploads left (an API that died mid-upload): at start, then
        # periodically.
        uploads_sweep = asyncio.create_task(sweep_forever(settings), name="uploads-sweep")
        # A signal ends the open log streams first, else uvicorn waits for them forever.
        stopping = Stopping()
        stopping.on_stop(job_logs.end_streams)
        stopping.install()
        engine = JobEngine(
            temporal,
            settings,
            _job_cleanups(),
            _no_fresh_retry(),
            on_started=metrics.job_started if metrics else None,
        )
        engine.on_start = job_logs.follow
        app.state.platform = PlatformState(
            settings=settings,
            db=db,
            temporal=temporal,
            jobs=engine,
            audit=audit,
            key_usage=key_usage,
            job_logs=job_logs,
            stopping=stopping,
        )
        log.info("api ready", port=settings.api_port, temporal=settings.temporal_address)
        # Everything loaded so far (the platform's modules, schemas, routes) lives as long as the
        # process: moved out of the collector's reach, a full collection scans only what requests
        # allocate. Otherwise each one walked it all, 50-140 ms with every request waiting (issue 9).
        gc.collect()
        gc.freeze()
        # The runners' orphan cleanup, the stuck-job finder with the alerts and the audit
        # retention (issue 10), and the drift observer are Temporal Schedules; set up without
        # delaying the start.
        schedules = [
            asyncio.create_task(schedule(settings).ensure_in_background(temporal, settings))
            for schedule in (cleanup_schedule, reaper_schedule, drift_schedule)
        ]
        if metrics:
            gauges = JobGauges(metrics, temporal, db, settings).refresh_forever()
            schedules.append(asyncio.create_task(gauges, name="job-gauges"))
        yield
        stopping.uninstall()
        for task in (*schedules, key_recheck, uploads_sweep):
            task.cancel()
        await job_logs.stop()
        await key_usage.stop()
        await audit.stop()
        await db.dispose()
        if tracer_provider is not None:
            await asyncio.to_thread(tracer_provider.force_flush)

    app = FastAPI(
        title="ConneSkills Platform",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        # Served by install_docs from an installed package instead of a CDN: they work offline.
        docs_url=None,
        redoc_url=None,
    )
    install_docs(app)
    # Refuses an oversized body before anything else reads it; inside CORS so the 413 carries CORS.
    # The hosting system's service create takes a ZIP upload: streamed to disk under its own bound.
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_request_bytes,
        streamed={("POST", "/service"): settings.hosting_upload_max_bytes},
    )
    # The Temporal Web UI calls the codec endpoint from the browser, so its origin is allowed too.
    origins = [*settings.cors_origins, settings.temporal_ui_url.rstrip("/")]
    origins += [o.replace("127.0.0.1", "localhost") for o in origins if "127.0.0.1" in o]
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=["*"],
        allow_headers=["*"],
    )
    # Requests by route template and status, latencies; /metrics, open (api/metrics.py).
    metrics = install_metrics(app) if settings.metrics_enabled else None
    # Outermost: every mutating call is recorded, even one refused by the body limit or CORS.
    app.add_middleware(AuditTrail)
    install_error_handlers(app, {assistant.ERROR_PATHS: assistant.error_code})
    openapi.install(app)
    # Routing tries the routes in order, router after router (each route passed costs its regular
    # expression): the CRM webhook, by far the busiest path, goes first.
    for router in crm.WEBHOOK_ROUTERS:
        include_routes(app, router)
    # Then the jobs and each system's routers (where jobs start), and the rarely called ones last:
    # a job start passed API keys and the codec before (issue 9).
    for router in (health.router, jobs.router):
        include_routes(app, router)
    for router in (*provisioning.ROUTERS, *runners.ROUTERS, *oversight.ROUTERS):
        include_routes(app, router)
    for router in (
        *crm.ROUTERS,
        *hosting.ROUTERS,
        *assistant.ROUTERS,
        api_keys.router,
        codec.router,
    ):
        include_routes(app, router)
    # Outermost of all (it wraps the whole middleware stack): a request's span covers everything.
    install_tracing(app, tracer_provider)
    return app


async def _register_admin_key(db: Database, key: str) -> None:
    """Registers the admin key. Replicas starting together on a new database may both find it
    missing: the one whose insert loses to the other's (its unique hash) finds it on a second look."""
    try:
        async with db.transaction() as session:
            await key_store.ensure(session, "admin", key, key_store.ADMIN_SCOPES)
    except IntegrityError:
        async with db.transaction() as session:
            await key_store.ensure(session, "admin", key, key_store.ADMIN_SCOPES)


def _no_fresh_retry() -> dict[str, str]:
    """Operations a fresh retry must not start again, with the reason the 409 gives, from each
    system's routes package (`NO_FRESH_RETRY`)."""
    systems = (provisioning, runners, crm, hosting)
    return {
        operation: reason
        for system in systems
        for operation, reason in getattr(system, "NO_FRESH_RETRY", {}).items()
    }


def _job_cleanups() -> dict[str, str]:
    """Each system's cleanup step after a force-cancel, from its routes package (`JOB_CLEANUPS`;
    a system whose jobs leave nothing outside the platform has none), with the system whose
    workers serve it. CRM has no jobs, so neither cleanups nor a queue."""
    systems = (
        (task_queues.PROVISIONING, provisioning),
        (task_queues.RUNNERS, runners),
        (task_queues.HOSTING, hosting),
    )
    return {
        step: system for system, routes in systems for step in getattr(routes, "JOB_CLEANUPS", ())
    }
