"""The drift observer's look at the runners system's containers: each runner the platform started
and still considers alive (its `resource_states` row, kind `runner`, written when its container
started and forgotten when the runner is destroyed or cleaned up), read-only through the Engine
API. Only containers carrying the runners' mark (`managed-by` and the runner's job id) are looked
at. Compared: that the container exists, that it runs (not exited, not paused), its image and its
ownership labels. The conditions and drift land on the same row, with one `resource_drifted` alert
per new drift. The observer never writes what was applied: a runner that ends meanwhile is not
brought back."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import structlog
from docker.errors import NotFound
from temporalio import activity

from activities.alert_events import AlertEvents
from contracts.provisioning.drift import (
    RUNNER_KIND,
    Condition,
    ConditionType,
    DriftEntry,
    Observed,
    ObserveInput,
)
from contracts.provisioning.names import DriftSteps, Workflows
from contracts.runners.runners import JOB_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE
from core.settings import Settings
from providers import docker_engine
from store.db import Database
from store.oversight import resource_states

log = structlog.get_logger(__name__)


class RunnerDriftActivities:
    def __init__(self, settings: Settings, db: Database, events: AlertEvents) -> None:
        self.settings = settings
        self.db = db
        self.events = events

    def all(self) -> list:
        return [self.observe_runners]

    @activity.defn(name=DriftSteps.OBSERVE_RUNNERS)
    async def observe_runners(self, _: ObserveInput) -> Observed:
        async with self.db.transaction() as session:
            rows = [(r.name, r.applied) for r in await resource_states.all_of(session, RUNNER_KIND)]
        result = Observed()
        for runner_id, applied_json in rows:
            activity.heartbeat()
            applied = json.loads(applied_json or "{}")
            live = await asyncio.to_thread(_live, self.settings, runner_id)
            await self._record(runner_id, applied, live, result)
        if result.drifted_count:
            log.warning("drift observed", runners=result.drifted[:20], count=result.drifted_count)
        return result

    async def _record(
        self, runner_id: str, applied: dict, live: dict | None, result: Observed
    ) -> None:
        now = datetime.now(UTC)
        drift = drift_of(applied, live)
        ready = bool(live) and live["running"] and not live["paused"]
        conditions = [
            Condition(
                type=ConditionType.ready,
                status="True" if ready else "False",
                reason="Running" if ready else "NotRunning",
            )
        ]
        if drift:
            fields = ", ".join(e.field for e in drift[:20])
            conditions += [
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
            conditions += [
                Condition(type=ConditionType.synced, status="True", reason="InSync"),
                Condition(type=ConditionType.drifted, status="False", reason="MatchesApplied"),
            ]
        async with self.db.transaction() as session:
            state = await resource_states.get(session, RUNNER_KIND, runner_id, for_update=True)
            if state is None:
                # Destroyed or cleaned up while it was looked at: no longer the platform's.
                return
            raised = await resource_states.observed(
                session, state, conditions, drift, now, workflow_type=Workflows.OBSERVE_DRIFT
            )
        result.observed += 1
        if drift:
            result.add_drifted(runner_id)
        else:
            result.in_sync += 1
        if live is None:
            result.missing += 1
        if raised is not None:
            result.alerts_raised += int(raised.fresh)
            await self.events.drift(raised)


def _live(settings: Settings, runner_id: str) -> dict[str, Any] | None:
    """The runner's container, if one carries the runners' mark and its job id: its name, image,
    labels and state."""
    client = docker_engine.client(settings)
    labels = [f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}", f"{JOB_LABEL}={runner_id}"]
    with docker_engine.as_temporal_failures(f"reading the container of runner {runner_id}"):
        found = client.api.containers(all=True, filters={"label": labels})
        for summary in found:
            try:
                attrs = client.api.inspect_container(summary["Id"])
            except NotFound:  # removed between the listing and the look
                continue
            state = attrs.get("State") or {}
            return {
                "container": (attrs.get("Name") or "").lstrip("/"),
                "image": attrs["Config"].get("Image"),
                "labels": attrs["Config"].get("Labels") or {},
                "state": state.get("Status"),
                "running": bool(state.get("Running")),
                "paused": bool(state.get("Paused")),
            }
    return None


def drift_of(applied: dict, live: dict | None) -> list[DriftEntry]:
    if live is None:
        return [DriftEntry(field="container", applied="present", live=None)]
    entries = []
    if applied.get("state") and live["state"] != applied["state"]:
        entries.append(DriftEntry(field="state", applied=applied["state"], live=live["state"]))
    if applied.get("image") and live["image"] != applied["image"]:
        entries.append(DriftEntry(field="image", applied=applied["image"], live=live["image"]))
    if applied.get("container") and live["container"] != applied["container"]:
        entries.append(
            DriftEntry(field="name", applied=applied["container"], live=live["container"])
        )
    for key, value in sorted((applied.get("labels") or {}).items()):
        if live["labels"].get(key) != value:
            entries.append(
                DriftEntry(field=f"labels.{key}", applied=value, live=live["labels"].get(key))
            )
    return entries
