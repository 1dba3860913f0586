"""What the JobReaper workflow and its activities pass each other: counts and job ids, never the
alerts themselves (a sweep over many jobs would not fit in a payload; the activities write them)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

# Job ids a result names at most; `count` says how many there were.
MAX_LISTED = 100


class AlertKind(StrEnum):
    job_overdue = "job_overdue"
    compensation_failed = "compensation_failed"
    # Raised by the drift observer (contracts/provisioning/drift.py), not by the reaper.
    resource_drifted = "resource_drifted"


class ReaperInput(BaseModel):
    """Nothing yet: the reaper reads its figures from the worker's settings. A model so fields can
    be added without breaking recorded histories."""


class AlertsChanged(BaseModel):
    """Alerts a step raised or resolved: how many, and the first MAX_LISTED job ids."""

    count: int = 0
    job_ids: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, job_ids: list[str]) -> AlertsChanged:
        return cls(count=len(job_ids), job_ids=job_ids[:MAX_LISTED])


class PrunedAudit(BaseModel):
    deleted: int = 0


class PrunedJobLogs(BaseModel):
    """Recorded job log lines deleted, and the cursors of ended jobs no feed will read again."""

    deleted: int = 0
    cursors_deleted: int = 0
