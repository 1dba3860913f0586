"""`GET /api/metrics` (seed 002): alerts, infrastructure counts and the assistant's own figures."""

from __future__ import annotations

from pydantic import BaseModel, Field


class AlertDetails(BaseModel):
    failed_jobs_24h: int = Field(description="Jobs that failed (or were terminated) in 24 h.")
    unhealthy_external_services: int
    compensation_failed_alerts: int = Field(description="Open `compensation_failed` alerts.")
    jobs_needing_attention: int = Field(description="Jobs held after a failure, to retry.")
    overdue_jobs: int = Field(description="Open `job_overdue` alerts.")
    completed_jobs_24h: int
    healthy_external_services: int


class AlertCounts(BaseModel):
    critical: int = Field(
        description="Failed jobs in the last 24 h, unhealthy external services and open "
        "`compensation_failed` alerts."
    )
    warning: int = Field(description="Jobs needing attention (to retry) and overdue jobs.")
    ok: int = Field(description="Jobs completed in the last 24 h and healthy external services.")
    details: AlertDetails


class Infrastructure(BaseModel):
    """How many of each thing the platform runs; null for what is not enabled or not readable
    now (`unavailable` says why)."""

    cloud_run_services: int | None
    docker_services: int
    vms: int
    runners: int | None
    aws_instances: int | None = Field(description="EC2 instances, while AWS is enabled.")
    azure_vms: int | None = Field(description="Always null: Azure cannot be enabled.")
    unavailable: dict[str, str] = Field(default_factory=dict)


class AgentStats(BaseModel):
    total_messages: int = Field(description="Messages of every conversation.")
    tools_executed: int = Field(description="Tool calls of chat turns plus direct executions.")
    uptime_seconds: int = Field(description="Since this API process started.")


class MetricsResponse(BaseModel):
    alerts: AlertCounts
    infrastructure: Infrastructure
    agent_stats: AgentStats
