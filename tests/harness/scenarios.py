"""One scenario per job type users start: how to prepare what the job needs, how to start it through
the REST API with names of its own, and which names are its own (the snapshot's tokens).

`kind` says what a successful run does to the world: a "create" job makes things (so a failed or
cancelled one must leave the world exactly as it found it), a "remove" job deletes things (a failed
or cancelled one may have removed some, it cannot undo a delete, but it must make nothing).
Prerequisites are prepared through the API too, before the snapshot is taken."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from contracts.provisioning.names import Workflows as Provisioning
from tests.harness.platform import HarnessPlatform
from tests.helpers.platform import wait_for_job
from tests.helpers.provisioning import IMAGE


@dataclass
class Prepared:
    """A scenario's names for one run (tokens first: what the snapshot normalises) and what it
    prepared."""

    tokens: list[str]
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    workflow: str
    kind: str  # "create" | "remove"
    prepare: Callable[[HarnessPlatform], Awaitable[Prepared]]
    start: Callable[[HarnessPlatform, Prepared], Awaitable[str]]


def _token(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


async def _started(response) -> str:
    assert response.status_code in (201, 202), response.text
    return response.json()["job_id"]


async def _completed(platform: HarnessPlatform, response) -> dict:
    job = await wait_for_job(platform.api, await _started(response), seconds=90)
    assert job["status"] == "completed", job
    return job


# DeployService: a new Cloud Run service, its invokers and its registry record.
async def _prepare_deploy(platform: HarnessPlatform) -> Prepared:
    return Prepared([f"hsvc-{uuid.uuid4().hex[:8]}"])


async def _start_deploy(platform: HarnessPlatform, prepared: Prepared) -> str:
    body = {"service_name": prepared.tokens[0], "image": IMAGE}
    return await _started(await platform.api.post("/api/v1/services/deploy", json=body))


SCENARIOS: dict[str, Scenario] = {
    scenario.workflow: scenario
    for scenario in (
        Scenario(Provisioning.DEPLOY_SERVICE, "create", _prepare_deploy, _start_deploy),
    )
}

# Registered workflow types the harness does not run as scenarios, and why.
EXCLUDED: dict[str, str] = {
    # The lock jobs take turns through: started by the jobs themselves, never by a user; every
    # scenario runs through it.
    "ResourceLock": "internal: every job's turn-taking, exercised by every scenario",
    # Started by a force-cancel (terminate) only; the harness's faults are graceful.
    "CleanupAfterTerminate": "internal: runs only after a force-cancel",
    # Periodic sweeps started by Temporal Schedules; they create nothing to leak.
    "JobReaper": "internal: scheduled sweep that creates nothing outside",
    "RunnerCleanup": "scheduled (and POST /runners/cleanup) sweep that only removes orphans",
    # Child jobs of onboarding: faulted through OnboardCustomer's steps, which include theirs.
    "ProvisionCustomerJira": "child job of OnboardCustomer",
    "ProvisionCustomerLiteLLM": "child job of OnboardCustomer",
    "ProvisionCustomerZenML": "child job of OnboardCustomer",
}
# Job types users start that have no scenario yet: the coverage test lists them rather than fail,
# so the gap is visible in one place. Remove an entry when its scenario lands.
NOT_YET: dict[str, str] = {
    name: "no scenario yet"
    for name in (
        "UndeployService",
        "CreateServiceDatabase",
        "SetupImageBuild",
        "OnboardCustomer",
        "OffboardCustomer",
        "DeployAgent",
        "RetireAgent",
        "EphemeralRunner",
    )
}
