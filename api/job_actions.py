"""A job's affordances: what the caller may do to it now, from its state and the caller's scopes,
so the CLI, the assistant and a UI offer only what the API would accept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.auth import Principal
from api.schemas.jobs import JobActions, JobStatus

_ACTIVE = (JobStatus.queued, JobStatus.running, JobStatus.needs_attention)
# Still running, but undoing what it did: only a force-cancel (after a cancel and its cool-off)
# stops it; a cancel would interrupt the undo under way, and nothing is left to retry or roll back.
_FORCE_CANCELLABLE = (*_ACTIVE, JobStatus.compensating)
# Ended without completing: what the job did was compensated (or cleaned up after a force-cancel),
# so only a fresh retry (a new job) is left.
_ENDED_UNDONE = (JobStatus.failed, JobStatus.cancelled)


def force_cancel_allowed_at(cancel_requested_at: datetime | None, cooloff_seconds: float):
    if cancel_requested_at is None:
        return None
    return cancel_requested_at + timedelta(seconds=cooloff_seconds)


def actions_for(
    status: JobStatus,
    principal: Principal | None,
    cancel_requested_at: datetime | None,
    cooloff_seconds: float,
    started_by: str | None = None,
    fresh_retry: bool = True,
) -> JobActions:
    """`fresh_retry`: whether the job's operation can be started again at all (a system's
    NO_FRESH_RETRY says which cannot)."""
    if principal is None or not principal.has("write"):
        return JobActions()
    allowed_at = force_cancel_allowed_at(cancel_requested_at, cooloff_seconds)
    return JobActions(
        can_cancel=status in _ACTIVE and cancel_requested_at is None,
        can_force_cancel=(
            status in _FORCE_CANCELLABLE
            and principal.has("admin")
            and allowed_at is not None
            and datetime.now(UTC) >= allowed_at
        ),
        can_retry=status == JobStatus.needs_attention
        or (status in _ENDED_UNDONE and fresh_retry and may_start_again(principal, started_by)),
        can_rollback=status == JobStatus.needs_attention,
    )


def may_start_again(principal: Principal, started_by: str | None) -> bool:
    """A fresh retry re-runs the job with the authorization its start was given (e.g. the secrets
    a deploy mounts, checked against the starting key's scopes): only that key or an admin."""
    return principal.has("admin") or (
        started_by is not None and started_by == str(principal.key_id)
    )
