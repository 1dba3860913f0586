"""`resource_states`: the configuration the platform last applied to each resource it manages, and
the drift observer's last look at it. A condition's `last_transition_time` moves only when its
status changes; a newly detected drift raises one `resource_drifted` alert (keyed by the drift and
when it began), announced once and resolved when the resource is back in sync."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.provisioning.drift import RESOURCE_DRIFTED, Condition, DriftEntry
from store.models import utcnow
from store.oversight import alerts
from store.oversight.models import ResourceState


@dataclass(frozen=True)
class RaisedDrift:
    """A `resource_drifted` alert to announce: what its webhook event says
    (activities/alert_events.py), published once the observation's transaction has committed.
    `fresh`: raised by this observation; else raised by an earlier one that failed before its
    announcement went out."""

    key: str
    resource: str
    tenant: str | None
    message: str
    drift: list[dict[str, Any]]
    fresh: bool = True


async def record_applied(
    session: AsyncSession,
    *,
    kind: str,
    name: str,
    region: str | None,
    tenant: str | None,
    applied: str,
    job_id: str,
    at: datetime,
    access: list[str] | None = None,
) -> None:
    """`access`: who may call the resource as this job applied it; None keeps what an earlier job
    applied (a job that left the access policy alone)."""
    row = await session.get(ResourceState, (kind, name), with_for_update=True)
    if row is None:
        row = ResourceState(kind=kind, name=name, conditions=[], drift=[])
        session.add(row)
    row.region, row.tenant, row.applied = region, tenant, applied
    row.applied_by_job, row.applied_at = job_id, at
    if access is not None:
        row.applied_access = sorted(access)


async def forget(session: AsyncSession, kind: str, name: str) -> None:
    """The resource is no longer the platform's (undeployed, deleted): its record goes and the
    alert of a drift it still had is resolved."""
    await forget_all_but(session, kind, None, names=[name])


async def forget_all_but(
    session: AsyncSession, kind: str, keep: set[str] | None, *, names: list[str] | None = None
) -> int:
    """Forgets the `names` given, or every resource of `kind` not in `keep` (the ones the
    platform no longer keeps); returns how many."""
    query = select(ResourceState).where(ResourceState.kind == kind)
    if names is not None:
        query = query.where(ResourceState.name.in_(names))
    gone = [
        row for row in (await session.scalars(query)).all() if keep is None or row.name not in keep
    ]
    keys = [row.drift_alert_key for row in gone if row.drift_alert_key]
    if keys:
        await alerts.resolve(session, RESOURCE_DRIFTED, keys, utcnow())
    if gone:
        await session.execute(
            delete(ResourceState).where(
                ResourceState.kind == kind, ResourceState.name.in_([row.name for row in gone])
            )
        )
    return len(gone)


async def get(
    session: AsyncSession, kind: str, name: str, *, for_update: bool = False
) -> ResourceState | None:
    """`for_update`: an observation about to be written (a reconcile's own look may meet the
    schedule's; the alert key is read then written under the row's lock)."""
    return await session.get(ResourceState, (kind, name), with_for_update=for_update)


async def all_of(session: AsyncSession, kind: str) -> Sequence[ResourceState]:
    query = select(ResourceState).where(ResourceState.kind == kind).order_by(ResourceState.name)
    return (await session.scalars(query)).all()


def _merged(previous: list[dict[str, Any]], now: list[Condition], at: datetime) -> list[dict]:
    before = {c.get("type"): c for c in previous or []}
    merged = []
    for condition in now:
        old = before.get(condition.type.value)
        since = at
        if old is not None and old.get("status") == condition.status:
            since = datetime.fromisoformat(old["last_transition_time"])
        shown = condition.model_copy(update={"last_transition_time": since})
        merged.append(shown.model_dump(mode="json"))
    return merged


def _drift_key(kind: str, name: str, drift: list[DriftEntry], since: str) -> str:
    canonical = json.dumps(
        [e.model_dump(mode="json") for e in drift] + [since], sort_keys=True, default=str
    )
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:16]
    return f"drift:{kind}/{name}:{digest}"


async def observed(
    session: AsyncSession,
    row: ResourceState,
    conditions: list[Condition],
    drift: list[DriftEntry],
    at: datetime,
    *,
    workflow_type: str,
) -> RaisedDrift | None:
    """Writes an observation; answers the drift alert to announce, if any: the one it newly
    raised, or the same drift's alert when its announcement has not gone out yet (the same drift
    seen again, once announced, answers nothing)."""
    row.conditions = _merged(row.conditions, conditions, at)
    row.drift = [e.model_dump(mode="json") for e in drift]
    row.observed_at = at
    resource = f"{row.kind}/{row.name}"
    old_key = row.drift_alert_key
    if not drift:
        if old_key:
            await alerts.resolve(session, RESOURCE_DRIFTED, [old_key], at)
        row.drift_alert_key = None
        return None
    since = next(c["last_transition_time"] for c in row.conditions if c["type"] == "Drifted")
    key = _drift_key(row.kind, row.name, drift, since)
    fields = ", ".join(e.field for e in drift[:20])
    more = f" and {len(drift) - 20} more" if len(drift) > 20 else ""
    message = f"{resource} changed outside the platform: {fields}{more}"[:1000]
    raised = RaisedDrift(
        key=key, resource=resource, tenant=row.tenant, message=message, drift=list(row.drift)
    )
    if key == old_key:
        pending = await alerts.unannounced(session, RESOURCE_DRIFTED, [key])
        return replace(raised, fresh=False) if pending else None
    if old_key:
        await alerts.resolve(session, RESOURCE_DRIFTED, [old_key], at)
    row.drift_alert_key = key
    draft = {
        "kind": RESOURCE_DRIFTED,
        "job_id": key,
        "workflow_type": workflow_type,
        "resource": resource,
        "message": message,
    }
    return raised if await alerts.raise_new(session, [draft], at) else None
