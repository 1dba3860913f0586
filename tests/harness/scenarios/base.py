"""What every scenario is made of (a scenario's prerequisites and start, its names), and the small
helpers the systems' scenario modules share."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tests.harness.platform import HarnessPlatform
from tests.helpers.platform import wait_for_job

if TYPE_CHECKING:
    from tests.harness.cases import Outcome


@dataclass
class Prepared:
    """A scenario's names for one run (tokens first: what the snapshot normalises) and what it
    prepared."""

    tokens: list[str]
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    workflow: str
    kind: str  # "create" | "remove" | "change"
    prepare: Callable[[HarnessPlatform], Awaitable[Prepared]]
    start: Callable[[HarnessPlatform, Prepared], Awaitable[str]]
    # Snapshot kinds (as the verdict shows them) that belong to the platform, not to the job that
    # happened to create them first: every job of this type adopts them and none undoes them, so a
    # failed or cancelled job may leave them (docs/systems/provisioning.md says which and why).
    shared: tuple[str, ...] = ()
    # Another way to start the same workflow type: the scenario's key becomes `workflow+variant`.
    variant: str = ""
    # The scenario's own checks of an outcome, beyond the catalogue's (problems; empty: none).
    expect: Callable[[Prepared, Outcome], list[str]] | None = None
    # Run after the case's last snapshot: ends what the scenario started and must not outlive it.
    teardown: Callable[[HarnessPlatform, Prepared], Awaitable[None]] | None = None
    # A "change" job's changes that have no undo, `<snapshot kind> <field path prefix>`
    # (`proxmox.vms config.scsi0`): a failed or cancelled job may leave them, reported as `kept`.
    kept: tuple[str, ...] = ()
    # What a failed or cancelled job may leave behind by design (normalised keys): what the user
    # did, not what the job made, such as a chat turn's user message (the user did send it).
    may_leave: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.workflow}+{self.variant}" if self.variant else self.workflow


async def started(response) -> str:
    assert response.status_code in (201, 202), response.text
    return response.json()["job_id"]


async def job_ended(platform: HarnessPlatform, job_id: str, seconds: float) -> dict:
    """The job (`GET /jobs/{id}`) once it has ended: wait_for_job, whose reads the API holds until
    the job has settled (`?wait=`, a long poll of its history)."""
    return await wait_for_job(platform.api, job_id, seconds=seconds)


async def finished(platform: HarnessPlatform, job_id: str) -> None:
    """Waits for a prerequisite's job, which must complete."""
    job = await job_ended(platform, job_id, seconds=120)
    assert job["status"] == "completed", job


def name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


async def no_prerequisites(prefix: str) -> Prepared:
    return Prepared([name(prefix)])
