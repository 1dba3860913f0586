"""The drift observer's look at the hosting system's Docker services: each service the platform
keeps running or stopped against its Compose file (`hosting_services.compose_file`: what its create
applied), read-only through the Engine API. Only containers carrying the platform's, the service's
and its user's labels are looked at. Compared per Compose service: that its container exists, its
image, and the plain `environment` variables by name (the generated passwords come from the
secrets file and are never read or compared). The conditions and drift land in `resource_states`
(kind `docker_service`, named by id) with one `resource_drifted` alert per new drift."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import structlog
import yaml
from sqlalchemy import select
from temporalio import activity

from activities.alert_events import AlertEvents
from contracts.hosting.services import (
    COMPOSE_SERVICE_LABEL,
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    SERVICE_ID_LABEL,
    USER_LABEL,
)
from contracts.provisioning.drift import (
    DOCKER_SERVICE_KIND,
    Condition,
    ConditionType,
    DriftEntry,
    Observed,
    ObserveInput,
)
from contracts.provisioning.names import DriftSteps, Workflows
from core.settings import Settings
from providers import docker_engine
from store.db import Database
from store.hosting.models import HostingService
from store.oversight import resource_states

log = structlog.get_logger(__name__)
# Kept as they are on purpose; the others are on their way in or out (a job is at work) or gone.
_KEPT = ("running", "stopped")


class DockerDriftActivities:
    def __init__(self, settings: Settings, db: Database, events: AlertEvents) -> None:
        self.settings = settings
        self.db = db
        self.events = events

    def all(self) -> list:
        return [self.observe_docker_services]

    @activity.defn(name=DriftSteps.OBSERVE_DOCKER_SERVICES)
    async def observe_docker_services(self, _: ObserveInput) -> Observed:
        async with self.db.transaction() as session:
            query = select(HostingService).where(
                HostingService.status.in_(_KEPT), HostingService.compose_file.is_not(None)
            )
            rows = (await session.scalars(query)).all()
        result = Observed()
        async with self.db.transaction() as session:
            # Deleted or failed since: no longer the platform's to observe.
            await resource_states.forget_all_but(
                session, DOCKER_SERVICE_KIND, {str(r.id) for r in rows}
            )
        for row in rows:
            activity.heartbeat()
            applied = _applied(row.compose_file)
            live = await asyncio.to_thread(_live, self.settings, row.id, row.userid, applied)
            await self._record(row, applied, live, result)
        if result.drifted_count:
            log.warning(
                "drift observed", docker_services=result.drifted[:20], count=result.drifted_count
            )
        return result

    async def _record(
        self, row: HostingService, applied: dict, live: dict[str, dict], result: Observed
    ) -> None:
        now = datetime.now(UTC)
        drift = _drift(applied, live)
        result.observed += 1
        if drift:
            result.add_drifted(str(row.id))
        else:
            result.in_sync += 1
        running = bool(live) and all(c["running"] for c in live.values())
        ready = Condition(
            type=ConditionType.ready,
            status="True" if running else "False",
            reason="Running" if running else "NotRunning",
        )
        if drift:
            fields = ", ".join(e.field for e in drift[:20])
            conditions = [
                ready,
                Condition(
                    type=ConditionType.synced,
                    status="False",
                    reason="Drifted",
                    message=f"live differs from applied: {fields}",
                ),
                Condition(
                    type=ConditionType.drifted,
                    status="True",
                    reason="LiveDiffers",
                    message=f"changed outside: {fields}",
                ),
            ]
        else:
            conditions = [
                ready,
                Condition(type=ConditionType.synced, status="True", reason="InSync"),
                Condition(type=ConditionType.drifted, status="False", reason="MatchesApplied"),
            ]
        async with self.db.transaction() as session:
            await resource_states.record_applied(
                session,
                kind=DOCKER_SERVICE_KIND,
                name=str(row.id),
                region=None,
                tenant=row.userid,
                applied=json.dumps(applied, sort_keys=True),
                job_id=row.job_id or "",
                at=row.updated_at or now,
            )
            state = await resource_states.get(
                session, DOCKER_SERVICE_KIND, str(row.id), for_update=True
            )
            raised = await resource_states.observed(
                session, state, conditions, drift, now, workflow_type=Workflows.OBSERVE_DRIFT
            )
        if raised is not None:
            result.alerts_raised += int(raised.fresh)
            await self.events.drift(raised)


def _applied(compose_file: str) -> dict[str, dict[str, Any]]:
    """Per Compose service: its image and plain environment (the Compose file has no secret value:
    those come from an `env_file`)."""
    services = (yaml.safe_load(compose_file) or {}).get("services") or {}
    return {
        name: {
            "image": entry.get("image"),
            "environment": {k: str(v) for k, v in (entry.get("environment") or {}).items()},
        }
        for name, entry in services.items()
    }


def _live(
    settings: Settings, service_id: int, userid: str, applied: dict[str, dict]
) -> dict[str, dict]:
    """The service's containers carrying the platform's mark, by Compose service: image, the
    values of the variables the Compose file names (only those: the rest may be secrets) and
    whether it runs."""
    client = docker_engine.client(settings)
    labels = [
        f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}",
        f"{SERVICE_ID_LABEL}={service_id}",
        f"{USER_LABEL}={userid}",
    ]
    with docker_engine.as_temporal_failures(f"listing the containers of service {service_id}"):
        found = client.api.containers(all=True, filters={"label": labels})
        live = {}
        for summary in found:
            service = (summary.get("Labels") or {}).get(COMPOSE_SERVICE_LABEL)
            if not service:
                continue
            attrs = client.api.inspect_container(summary["Id"])
            named = set((applied.get(service) or {}).get("environment") or {})
            pairs = (item.split("=", 1) for item in attrs["Config"].get("Env") or [] if "=" in item)
            env = {key: value for key, value in pairs if key in named}
            live[service] = {
                "image": attrs["Config"].get("Image"),
                "env": env,
                "running": bool((attrs.get("State") or {}).get("Running")),
            }
    return live


def _drift(applied: dict[str, dict], live: dict[str, dict]) -> list[DriftEntry]:
    entries = []
    for service in sorted(applied):
        want, have = applied[service], live.get(service)
        if have is None:
            entries.append(DriftEntry(field=service, applied="present", live=None))
            continue
        if want["image"] != have["image"]:
            entries.append(
                DriftEntry(field=f"{service}.image", applied=want["image"], live=have["image"])
            )
        for name in sorted(want["environment"]):
            value = have["env"].get(name)
            if value != want["environment"][name]:
                entries.append(
                    DriftEntry(
                        field=f"{service}.env.{name}",
                        applied=want["environment"][name],
                        live=value,
                    )
                )
    return entries
