"""What the platform applied to each runner's container, kept in `resource_states` (kind `runner`,
named by the runner id) for the drift observer: written when the container is started, forgotten
(its drift alert resolved) when the runner is destroyed, torn down or cleaned up."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from contracts.provisioning.drift import RUNNER_KIND
from contracts.runners.runners import (
    GITHUB_RUNNER_LABEL,
    JOB_LABEL,
    MANAGED_BY_LABEL,
    SCOPE_LABEL,
    SCOPE_NAME_LABEL,
)
from store.db import Database
from store.oversight import resource_states

# The labels that make up the container's ownership mark, compared by the observer.
MARK_LABELS = (MANAGED_BY_LABEL, JOB_LABEL, GITHUB_RUNNER_LABEL, SCOPE_LABEL, SCOPE_NAME_LABEL)


def applied(container_name: str, image: str, labels: dict[str, str]) -> dict:
    return {
        "container": container_name,
        "image": image,
        "state": "running",
        "labels": {key: labels[key] for key in MARK_LABELS if key in labels},
    }


async def remember(
    db: Database | None, job_id: str, scope_name: str, what: dict, at: datetime | None = None
) -> None:
    """Idempotent (a retried start writes the same)."""
    if db is None:
        return
    async with db.transaction() as session:
        await resource_states.record_applied(
            session,
            kind=RUNNER_KIND,
            name=job_id,
            region=None,
            tenant=scope_name,
            applied=json.dumps(what, sort_keys=True),
            job_id=job_id,
            at=at or datetime.now(UTC),
        )


async def known(db: Database | None) -> list[str]:
    """The runner ids the platform has a record of."""
    if db is None:
        return []
    async with db.transaction() as session:
        return [row.name for row in await resource_states.all_of(session, RUNNER_KIND)]


async def forget(db: Database | None, job_ids: list[str]) -> None:
    if db is None or not job_ids:
        return
    async with db.transaction() as session:
        await resource_states.forget_all_but(session, RUNNER_KIND, None, names=job_ids)
