"""Drift of a Cloud Run service: its live configuration against the one the platform last applied,
compared on the fields a deploy sets (`cloud_run_plan.configuration`: the platform's own labels left
out) and on its access policy (the invoker members, `access.invokers`, which Cloud Run keeps apart
from the Service), and the Service the reconcile job applies to put the applied one back. Pure: the
callers read both services and the live invokers through `CloudRunServices`."""

from __future__ import annotations

from typing import Any

from google.cloud import run_v2

from contracts.provisioning.drift import DriftEntry
from providers.google.cloud_run_plan import ACCESS, configuration
from providers.google.cloud_run_spec import JOB_LABEL, MANAGED_BY, MANAGED_BY_LABEL, job_label_value

_MAPS = ("env", "secrets", "labels")


def managed(service: run_v2.Service) -> bool:
    """The platform's mark: only a service carrying it is observed or reconciled."""
    return service.labels.get(MANAGED_BY_LABEL) == MANAGED_BY


def drift_of(applied: run_v2.Service, live: run_v2.Service) -> list[DriftEntry]:
    """Field by field; maps by key (`env.NAME`, `secrets.NAME` as `secret:version`, `labels.key`)."""
    was, now = configuration(applied), configuration(live)
    entries: list[DriftEntry] = []
    for field in sorted(was):
        if field in _MAPS:
            continue
        if was[field] != now.get(field):
            entries.append(DriftEntry(field=field, applied=was[field], live=now.get(field)))
    for group in _MAPS:
        old: dict[str, Any] = was.get(group) or {}
        new: dict[str, Any] = now.get(group) or {}
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                entries.append(
                    DriftEntry(field=f"{group}.{key}", applied=old.get(key), live=new.get(key))
                )
    return entries


def access_drift(applied: list[str] | None, live: list[str] | None) -> list[DriftEntry]:
    """The invoker members against those the platform applied (both sorted): an `allUsers` added
    behind its back is a service made public. Not compared when the platform recorded none (a
    service deployed before it did) or the live ones were not read."""
    if applied is None or live is None:
        return []
    was, now = sorted(applied), sorted(live)
    return [] if was == now else [DriftEntry(field=ACCESS, applied=was, live=now)]


def reapplied(applied: run_v2.Service, live: run_v2.Service, job_id: str) -> run_v2.Service:
    """The live service with the applied template and labels back, marked as changed by `job_id`:
    what an update request sends (the live etag, so a change made meanwhile refuses it)."""
    service = run_v2.Service(live)
    service.template = run_v2.RevisionTemplate(applied.template)
    # The template's revision name would collide with the applied revision: Cloud Run names it.
    service.template.revision = ""
    service.labels.clear()
    for key, value in applied.labels.items():
        service.labels[key] = value
    service.labels[MANAGED_BY_LABEL] = MANAGED_BY
    service.labels[JOB_LABEL] = job_label_value(job_id)
    return service
