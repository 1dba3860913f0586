"""Turns Cloud Run v2 Service resources into the API's read models (§1.1, §1.3, §1.4, §1.9)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from google.cloud import run_v2

from api.schemas.provisioning.services import (
    InstanceCounts,
    ReadyCondition,
    ServiceCategory,
    ServiceDetails,
    ServiceInfo,
    ServiceStatus,
    ServiceSummary,
    TrafficTarget,
)
from store.oversight.models import ResourceState
from store.provisioning.models import Customer, ServiceRecord

State = run_v2.Condition.State


def short_name(resource_name: str) -> str:
    return resource_name.rsplit("/", 1)[-1] if resource_name else ""


def region_of(service: run_v2.Service) -> str | None:
    parts = service.name.split("/")
    return parts[3] if len(parts) > 3 else None


def runtime_status(service: run_v2.Service) -> str:
    condition = service.terminal_condition
    if service.reconciling or condition.state in (
        State.CONDITION_PENDING,
        State.CONDITION_RECONCILING,
    ):
        return "Deploying"
    if condition.state == State.CONDITION_SUCCEEDED:
        return "Running"
    if condition.state == State.CONDITION_FAILED:
        return "Failed"
    return "Unknown"


def summary(
    service: run_v2.Service,
    record: ServiceRecord | None,
    customer: Customer | None,
    state: ResourceState | None = None,
) -> ServiceSummary:
    observed = state is not None and state.observed_at is not None
    return ServiceSummary(
        name=short_name(service.name),
        type="cloud_run",
        status=runtime_status(service),
        url=service.uri or None,
        region=region_of(service),
        category=ServiceCategory(record.category) if record else ServiceCategory.managed,
        customer=customer.prefix if customer else None,
        created_at=service.create_time,
        updated_at=service.update_time,
        conditions=state.conditions if observed else [],
        drift=state.drift if observed else [],
        observed_at=state.observed_at if observed else None,
    )


def info(service: run_v2.Service, record, customer, state=None) -> ServiceInfo:
    return ServiceInfo(
        **summary(service, record, customer, state).model_dump(),
        latest_revision=short_name(service.latest_ready_revision) or None,
    )


def details(service: run_v2.Service, record, customer, state=None) -> ServiceDetails:
    template = service.template
    container = template.containers[0] if template.containers else run_v2.Container()
    env, secret_env = {}, {}
    for var in container.env:
        ref = var.value_source.secret_key_ref
        if ref.secret:
            secret_env[var.name] = f"{ref.secret}:{ref.version or 'latest'}"
        else:
            env[var.name] = var.value
    limits = container.resources.limits
    return ServiceDetails(
        **info(service, record, customer, state).model_dump(),
        image=container.image or None,
        port=container.ports[0].container_port if container.ports else None,
        cpu=limits.get("cpu"),
        memory=limits.get("memory"),
        container_concurrency=template.max_instance_request_concurrency or None,
        timeout_seconds=int(template.timeout.total_seconds()) if template.timeout else None,
        min_instances=template.scaling.min_instance_count,
        max_instances=template.scaling.max_instance_count or None,
        traffic=[
            TrafficTarget(
                revision=short_name(t.revision) or None,
                percent=t.percent,
                latest=t.type_
                == run_v2.TrafficTargetAllocationType.TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST,
            )
            for t in service.traffic
        ],
        env_vars=env,
        secret_env_vars=secret_env,
        service_account=template.service_account or None,
        labels=dict(service.labels),
        # Enum names (`INGRESS_TRAFFIC_ALL`), as the Cloud Run console and gcloud show them.
        raw=json.loads(run_v2.Service.to_json(service, use_integers_for_enums=False)),
    )


def status(service: run_v2.Service, now: datetime | None = None) -> ServiceStatus:
    now = now or datetime.now(UTC)
    condition = service.terminal_condition
    ready = condition.state == State.CONDITION_SUCCEEDED
    state_text = {
        State.CONDITION_SUCCEEDED: "True",
        State.CONDITION_FAILED: "False",
    }.get(condition.state, "Unknown")
    transition = condition.last_transition_time
    health = (
        "healthy"
        if ready and not service.reconciling
        else ("unhealthy" if condition.state == State.CONDITION_FAILED else "deploying")
    )
    scaling = service.template.scaling
    return ServiceStatus(
        name=short_name(service.name),
        status=runtime_status(service),
        health=health,
        ready=ReadyCondition(
            status=state_text,
            reason=condition.reason.name if condition.reason else None,
            message=condition.message or None,
            last_transition=transition,
        ),
        reconciling=service.reconciling,
        latest_revision=short_name(service.latest_ready_revision) or None,
        latest_created_revision=short_name(service.latest_created_revision) or None,
        instances=InstanceCounts(
            min=scaling.min_instance_count, max=scaling.max_instance_count or None
        ),
        last_deployment=service.update_time,
        uptime_seconds=round((now - transition).total_seconds(), 1)
        if ready and transition
        else None,
        url=service.uri or None,
    )
