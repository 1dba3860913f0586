"""`GET /api/metrics` (seed 002) from real data: Temporal's visibility for jobs (failed or
completed in the last 24 h, held for a retry, direct tool runs), the platform's tables for alerts,
external services' health, Docker services, VMs and the assistant's messages, Cloud Run through the
Google client, runners through their jobs, EC2 through boto3 while AWS is enabled. A part that
cannot be read now is null with the reason in `infrastructure.unavailable`, so one outage never
hides the rest."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import structlog
from temporalio.service import RPCError

from api.deps import PlatformState
from api.errors import ApiError
from api.logic.assistant import config as config_logic
from api.logic.assistant.tools import enabled_providers
from api.schemas.assistant.metrics import (
    AgentStats,
    AlertCounts,
    AlertDetails,
    Infrastructure,
    MetricsResponse,
)
from contracts.assistant.names import Operations as AssistantOperations
from contracts.jobs import NEEDS_ATTENTION
from contracts.oversight.reaper import AlertKind
from contracts.runners.names import Operations as RunnerOperations
from providers import aws
from providers.google.cloud_run import CloudRunServices
from store.assistant import metrics as store
from temporal import search_attributes as sa

log = structlog.get_logger(__name__)
T = TypeVar("T")
_FAILED = "ExecutionStatus IN ('Failed', 'Terminated', 'TimedOut')"


async def _count(platform: PlatformState, query: str) -> int:
    try:
        counted = await platform.temporal.count_workflows(
            f"{sa.OPERATION.name} IS NOT NULL AND {query}"
        )
    except RPCError:
        raise ApiError(
            503, "the jobs cannot be counted now", details={"upstream": "temporal"}
        ) from None
    return counted.count


async def _read(
    name: str, unavailable: dict[str, str], read: Callable[[], Awaitable[T]]
) -> T | None:
    try:
        return await read()
    except Exception as error:  # one system's outage leaves the others' counts
        log.warning("metrics part unreadable", part=name, error_type=type(error).__name__)
        unavailable[name] = f"cannot be read now: {type(error).__name__}"
        return None


async def metrics(platform: PlatformState) -> MetricsResponse:
    settings = platform.settings
    since = (datetime.now(UTC) - timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M:%SZ")
    async with platform.db.transaction() as session:
        alerts = await store.open_alerts(session)
        health = await store.external_health(session)
        hosting = await store.hosting_counts(session)
        assistant = await store.assistant_counts(session)
    config = await config_logic.current(platform.db)
    enabled = enabled_providers(config)
    unavailable: dict[str, str] = {}

    failed, completed, held, direct, runners = await asyncio.gather(
        _count(platform, f"{_FAILED} AND CloseTime > '{since}'"),
        _count(platform, f"ExecutionStatus = 'Completed' AND CloseTime > '{since}'"),
        _count(
            platform,
            f"ExecutionStatus = 'Running' AND {sa.JOB_PHASE.name} = '{NEEDS_ATTENTION}'",
        ),
        _count(platform, f"{sa.OPERATION.name} = '{AssistantOperations.ASSISTANT_TOOL}'"),
        _read(
            "runners",
            unavailable,
            lambda: _count(
                platform,
                f"{sa.OPERATION.name} = '{RunnerOperations.RUNNER}' AND ExecutionStatus = 'Running'",
            ),
        ),
    )
    cloud_run = await _read(
        "cloud_run_services",
        unavailable,
        lambda: asyncio.to_thread(lambda: len(CloudRunServices(settings).list())),
    )
    ec2: int | None = None
    if "aws" in enabled:
        ec2 = await _read(
            "aws_instances",
            unavailable,
            lambda: asyncio.to_thread(lambda: aws.list_instances(settings)["count"]),
        )

    unhealthy = health.get("unhealthy", 0)
    healthy = health.get("healthy", 0)
    details = AlertDetails(
        failed_jobs_24h=failed,
        unhealthy_external_services=unhealthy,
        compensation_failed_alerts=alerts.get(AlertKind.compensation_failed, 0),
        jobs_needing_attention=held,
        overdue_jobs=alerts.get(AlertKind.job_overdue, 0),
        completed_jobs_24h=completed,
        healthy_external_services=healthy,
    )
    return MetricsResponse(
        alerts=AlertCounts(
            critical=failed + unhealthy + details.compensation_failed_alerts,
            warning=held + details.overdue_jobs,
            ok=completed + healthy,
            details=details,
        ),
        infrastructure=Infrastructure(
            cloud_run_services=cloud_run,
            docker_services=hosting["docker_services"],
            vms=hosting["vms"],
            runners=runners,
            aws_instances=ec2,
            azure_vms=None,
            unavailable=unavailable,
        ),
        agent_stats=AgentStats(
            total_messages=assistant["messages"],
            tools_executed=assistant["tool_calls"] + direct,
            uptime_seconds=int(time.monotonic() - platform.started),
        ),
    )
