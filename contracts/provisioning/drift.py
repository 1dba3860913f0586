"""Drift and conditions (Crossplane-style) of the resources the platform applied: what the drift
observer and the reconcile job pass each other and the API shows. Counts and names cross the
Temporal boundary, never a configuration: the activities read the applied one from the platform's
store and the live one from the outside system themselves."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from contracts.provisioning.services import ServiceName

# Resource names a result lists at most; `count` says how many there were.
MAX_LISTED = 100
RESOURCE_DRIFTED = "resource_drifted"
# The kind of a Cloud Run service in the platform's `resource_states`.
SERVICE_KIND = "service"
# The kind of a hosting (seed 001) Proxmox VM, named by its VMID.
VM_KIND = "vm"
# The kind of a hosting (seed 001) Docker service, named by its id.
DOCKER_SERVICE_KIND = "docker_service"
# The kind of a runners (seed 004) ephemeral runner's container, named by the runner id (its job's).
RUNNER_KIND = "runner"


class ConditionType(StrEnum):
    ready = "Ready"
    synced = "Synced"
    drifted = "Drifted"


class Condition(BaseModel):
    type: ConditionType
    status: Literal["True", "False"]
    reason: str
    message: str = ""
    last_transition_time: datetime | None = Field(
        default=None, description="When `status` last changed (not when it was last observed)."
    )


class DriftEntry(BaseModel):
    """One field whose live value differs from the applied one. Environment variables by name
    (`env.<NAME>`), secret references by name only (`secrets.<NAME>`: `secret:version`)."""

    field: str
    applied: Any = None
    live: Any = None


class ObserveInput(BaseModel):
    """Nothing yet: the observer reads what to look at from the store. A model so fields can be
    added without breaking recorded histories."""


class Observed(BaseModel):
    """One observation pass: resources looked at, in sync, drifted (first MAX_LISTED names), left
    alone (no ownership mark), and the drift alerts newly raised."""

    observed: int = 0
    in_sync: int = 0
    drifted: list[str] = Field(default_factory=list)
    drifted_count: int = 0
    not_managed: int = 0
    missing: int = 0
    alerts_raised: int = 0

    def add_drifted(self, name: str) -> None:
        self.drifted_count += 1
        if len(self.drifted) < MAX_LISTED:
            self.drifted.append(name)


class ServiceRef(BaseModel):
    service_name: str = ServiceName
    region: str


class ReconcileServiceInput(ServiceRef):
    pass


class LiveService(BaseModel):
    """A service as a reconcile found it, for its undo: its configuration (Service JSON; None: the
    service is gone) and its invoker members (None: not read, the service is not the platform's)."""

    service_json: str | None = None
    invokers: list[str] | None = None


class RestoreLiveInput(ServiceRef):
    """A reconcile's undo: what it found, and its job id (the mark its changes carry)."""

    live: LiveService
    job_id: str


class Reapplied(BaseModel):
    """What the reconcile's apply changed: the fields it put back (names, never values)."""

    service_name: str
    region: str
    fields: list[str] = Field(default_factory=list)
    changed: bool = False
