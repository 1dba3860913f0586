"""Request dependencies: the settings, database and Temporal client created by the app's lifespan."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Annotated, Literal

from fastapi import Depends, Header, Request
from temporalio.client import Client

from api.audit_writer import AuditWriter
from api.job_engine import JobEngine, requested_failure_mode
from api.job_log_feed import JobLogFeed
from api.key_usage import KeyUsage
from api.stopping import Stopping
from core.settings import Settings
from store.db import Database


@dataclass
class PlatformState:
    settings: Settings
    db: Database
    temporal: Client
    jobs: JobEngine
    # None in an app whose lifespan has not started it (nothing is recorded then).
    audit: AuditWriter | None = None
    key_usage: KeyUsage | None = None
    job_logs: JobLogFeed | None = None
    stopping: Stopping | None = None
    # When this process's platform started (monotonic): the assistant's `uptime_seconds`.
    started: float = field(default_factory=time.monotonic)


# Async on purpose: FastAPI runs a plain `def` dependency in a worker thread, a thread hop per
# request for what is an attribute read.
def _state(request: Request) -> PlatformState:
    return request.app.state.platform


async def _settings(request: Request) -> Settings:
    return _state(request).settings


async def _db(request: Request) -> Database:
    return _state(request).db


async def _temporal(request: Request) -> Client:
    return _state(request).temporal


async def _job_engine(request: Request) -> JobEngine:
    return _state(request).jobs


async def _key_usage(request: Request) -> KeyUsage | None:
    return _state(request).key_usage


async def _job_logs(request: Request) -> JobLogFeed | None:
    return _state(request).job_logs


async def _starting_a_job(
    request: Request,
    on_failure: Annotated[
        Literal["hold", "rollback"] | None,
        Header(
            alias="X-Job-On-Failure",
            description="For a request that starts a job: what a step that fails for good does. "
            "`rollback` (default) undoes what the job did; `hold` keeps the job in "
            "`needs_attention` until POST /api/v1/jobs/{id}/retry or /rollback (or the hold "
            "timeout, which rolls back).",
        ),
    ] = None,
) -> PlatformState:
    # Read by JobEngine.start of this request: one option for every job-starting route.
    requested_failure_mode.set(on_failure)
    return _state(request)


SettingsDep = Annotated[Settings, Depends(_settings)]
JobEngineDep = Annotated[JobEngine, Depends(_job_engine)]
# What a route that starts a job gets: the platform (its settings, database, Temporal client and
# job engine) as one dependency, which also documents and reads the job's X-Job-On-Failure. One, not
# one for each of them: FastAPI solves every dependency of every request, and on the job start path
# each cost as much as a search attribute (issue 9).
JobStarting = Annotated[PlatformState, Depends(_starting_a_job)]
DbDep = Annotated[Database, Depends(_db)]
TemporalDep = Annotated[Client, Depends(_temporal)]
# None in an app whose lifespan has not started them.
KeyUsageDep = Annotated[KeyUsage | None, Depends(_key_usage)]
JobLogFeedDep = Annotated[JobLogFeed | None, Depends(_job_logs)]
