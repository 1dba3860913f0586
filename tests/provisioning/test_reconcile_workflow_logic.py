"""ReconcileService's compensation with recording activities standing in for Cloud Run: a reconcile
that fails after its update puts back the live service it read first (its configuration and access,
drift included; the activity puts back only what is as the reconcile left it), then observes the
service again."""

from __future__ import annotations

import uuid

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from activities.jobs import JobActivities
from contracts.assistant.webhooks import Event, Published
from contracts.events import PUBLISH_EVENT
from contracts.provisioning.drift import (
    LiveService,
    Observed,
    Reapplied,
    ReconcileServiceInput,
    RestoreLiveInput,
    ServiceRef,
)
from contracts.provisioning.names import DriftSteps
from core.settings import Settings
from tests.helpers.lock_worker import lock_worker
from workflows.provisioning.drift import ReconcileService

DRIFTED = LiveService(
    service_json='{"name": "projects/p/locations/us-central1/services/svc-logic"}',
    invokers=["allUsers"],
)


class RecordingDrift:
    """The reconcile's activities under their real names; `fail` names the one that fails for good
    (its first call only)."""

    def __init__(self, fail: str | None) -> None:
        self.calls: list[str] = []
        self.fail = fail
        self.restored: list[RestoreLiveInput] = []

    def _record(self, name: str) -> None:
        self.calls.append(name)
        if name == self.fail and self.calls.count(name) == 1:
            raise ApplicationError(f"{name} refused", non_retryable=True)

    def activities(self) -> list:
        @activity.defn(name=DriftSteps.READ_LIVE)
        async def read_live(ref: ServiceRef) -> LiveService:
            self._record("read_live")
            return DRIFTED

        @activity.defn(name=DriftSteps.REAPPLY_SERVICE)
        async def reapply_service(inp: ReconcileServiceInput) -> Reapplied:
            self._record("reapply_service")
            return Reapplied(
                service_name=inp.service_name, region=inp.region, fields=["image"], changed=True
            )

        @activity.defn(name=DriftSteps.OBSERVE_SERVICE)
        async def observe_service(ref: ServiceRef) -> Observed:
            self._record("observe_service")
            return Observed(observed=1, in_sync=1)

        @activity.defn(name=DriftSteps.RESTORE_LIVE)
        async def restore_live(inp: RestoreLiveInput) -> list[str]:
            self._record("restore_live")
            self.restored.append(inp)
            return ["configuration", "access"]

        @activity.defn(name=PUBLISH_EVENT)
        async def publish(event: Event) -> Published:
            return Published()

        return [read_live, reapply_service, observe_service, restore_live, publish]


async def run_reconcile(env, drift: RecordingDrift, job_id: str) -> None:
    queue = f"logic-{uuid.uuid4().hex[:8]}"
    jobs = JobActivities(env.client, Settings(job_lock_check_seconds=1.0, task_queue=queue))
    async with (
        lock_worker(env.client, queue, jobs),
        Worker(
            env.client,
            task_queue=queue,
            workflows=[ReconcileService],
            activities=[*drift.activities(), *jobs.all()],
        ),
    ):
        await env.client.execute_workflow(
            ReconcileService.run,
            ReconcileServiceInput(service_name="svc-logic", region="us-central1"),
            id=job_id,
            task_queue=queue,
        )


async def test_a_completed_reconcile_reads_the_live_service_first_and_puts_nothing_back(
    temporal_env,
):
    drift = RecordingDrift(fail=None)
    await run_reconcile(temporal_env, drift, f"reconcile-{uuid.uuid4().hex[:8]}")
    assert drift.calls == ["read_live", "reapply_service", "observe_service"]


async def test_a_reconcile_failing_after_its_update_puts_the_drifted_configuration_back(
    temporal_env,
):
    drift = RecordingDrift(fail="observe_service")
    job_id = f"reconcile-{uuid.uuid4().hex[:8]}"
    with pytest.raises(WorkflowFailureError):
        await run_reconcile(temporal_env, drift, job_id)
    assert drift.calls == [
        "read_live",
        "reapply_service",
        "observe_service",
        "restore_live",
        "observe_service",
    ]
    (restored,) = drift.restored
    assert restored.live == DRIFTED
    # What carries this reconcile's own mark is put back, nothing else.
    assert restored.job_id == job_id
