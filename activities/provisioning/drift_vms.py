"""The drift observer's look at the hosting system's Proxmox VMs: each VM the platform created and
keeps (`hosting_vms`: the cores and memory its last create or update applied) against its live
configuration on the cluster, read-only. Only a VM carrying its user's mark (its description) is
compared; the conditions and drift land in `resource_states` (kind `vm`, named by VMID) like a
service's, with one `resource_drifted` alert per new drift."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import structlog
from sqlalchemy import select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.alert_events import AlertEvents
from contracts.hosting.vms import marked_for_user
from contracts.provisioning.drift import (
    VM_KIND,
    Condition,
    ConditionType,
    DriftEntry,
    Observed,
    ObserveInput,
)
from contracts.provisioning.names import DriftSteps, Workflows
from core.settings import Settings
from providers import proxmox
from store.db import Database
from store.hosting.models import HostingVm
from store.oversight import resource_states

log = structlog.get_logger(__name__)
# The states of a VM the platform keeps running or stopped on purpose: the others are on their way
# in or out (a job is at work) or gone.
_KEPT = ("enabled", "stopped", "paused")


class VmDriftActivities:
    def __init__(self, settings: Settings, db: Database, events: AlertEvents) -> None:
        self.settings = settings
        self.db = db
        self.events = events

    def all(self) -> list:
        return [self.observe_vms]

    @activity.defn(name=DriftSteps.OBSERVE_VMS)
    async def observe_vms(self, _: ObserveInput) -> Observed:
        async with self.db.transaction() as session:
            rows = (
                await session.scalars(select(HostingVm).where(HostingVm.status.in_(_KEPT)))
            ).all()
        result = Observed()
        async with self.db.transaction() as session:
            # Deleted or failed since: no longer the platform's to observe.
            await resource_states.forget_all_but(session, VM_KIND, {str(r.id) for r in rows})
        if not rows:
            return result
        pve = await asyncio.to_thread(proxmox.client, self.settings)
        for row in rows:
            activity.heartbeat()
            live = await asyncio.to_thread(_live, pve, row.id, row.node)
            await self._record(row, live, result)
        if result.drifted_count:
            log.warning("drift observed", vms=result.drifted[:20], count=result.drifted_count)
        return result

    async def _record(self, row: HostingVm, live: dict | None, result: Observed) -> None:
        now = datetime.now(UTC)
        applied = {"cores": row.cores, "memory_mb": row.memory_mb}
        conditions, drift = _assess(row, applied, live)
        result.observed += 1
        if live is None:
            result.missing += 1
        elif not marked_for_user(live.get("description"), row.userid):
            result.not_managed += 1
        elif drift:
            result.add_drifted(str(row.id))
        else:
            result.in_sync += 1
        async with self.db.transaction() as session:
            await resource_states.record_applied(
                session,
                kind=VM_KIND,
                name=str(row.id),
                region=row.node,
                tenant=row.userid,
                applied=json.dumps(applied),
                job_id=row.job_id or "",
                at=row.updated_at or now,
            )
            state = await resource_states.get(session, VM_KIND, str(row.id), for_update=True)
            raised = await resource_states.observed(
                session, state, conditions, drift, now, workflow_type=Workflows.OBSERVE_DRIFT
            )
        if raised is not None:
            result.alerts_raised += int(raised.fresh)
            await self.events.drift(raised)


def _live(pve: proxmox.ProxmoxVE, vmid: int, node: str | None) -> dict | None:
    """The VM's configuration and power state, wherever it is now (HA may have moved it)."""
    for where in (node, None):
        try:
            at = where or pve.locate(vmid)
            if at is None:
                return None
            config = dict(pve.config(at, vmid))
            config["_status"] = pve.status(at, vmid).status
            return config
        except ApplicationError as error:
            if error.type != "NotFound":
                raise
    return None


def _assess(
    row: HostingVm, applied: dict, live: dict | None
) -> tuple[list[Condition], list[DriftEntry]]:
    def cond(kind: ConditionType, status: str, reason: str, message: str = "") -> Condition:
        return Condition(type=kind, status=status, reason=reason, message=message)

    if live is None:
        gone = "the VM is no longer on the Proxmox cluster"
        return [
            cond(ConditionType.ready, "False", "NotFound", gone),
            cond(ConditionType.synced, "False", "NotFound", gone),
            cond(ConditionType.drifted, "True", "Deleted", gone),
        ], [DriftEntry(field="vm", applied="present", live=None)]
    running = live.get("_status") == "running"
    ready = cond(
        ConditionType.ready,
        "True" if running else "False",
        "Running" if running else "NotRunning",
    )
    if not marked_for_user(live.get("description"), row.userid):
        why = "the VM no longer carries its user's mark: not compared"
        return [
            ready,
            cond(ConditionType.synced, "False", "NotManaged", why),
            cond(ConditionType.drifted, "False", "NotCompared", why),
        ], []
    now = {"cores": _int(live.get("cores")), "memory_mb": _int(live.get("memory"))}
    drift = [
        DriftEntry(field=field, applied=applied[field], live=now[field])
        for field in ("cores", "memory_mb")
        if applied[field] is not None and applied[field] != now[field]
    ]
    if drift:
        fields = ", ".join(e.field for e in drift)
        return [
            ready,
            cond(ConditionType.synced, "False", "Drifted", f"live differs from applied: {fields}"),
            cond(ConditionType.drifted, "True", "LiveDiffers", f"changed outside: {fields}"),
        ], drift
    return [
        ready,
        cond(ConditionType.synced, "True", "InSync", "live matches the last applied"),
        cond(ConditionType.drifted, "False", "MatchesApplied"),
    ], []


def _int(value: object) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
