"""ReconcileService's compensation with recording activities standing in for Cloud Run: a reconcile
that fails after its update puts back the live configuration it read first (drift included, only
while the service is as the reconcile left it), then observes the service again."""

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
from contracts.provisioning.drift import Observed, Reapplied, ReconcileServiceInput, ServiceRef
from contracts.provisioning.names import CloudRunSteps, DriftSteps
from contracts.provisioning.services import CloudRunCall, CloudRunServiceResult, RestoreServiceInput
from core.settings import Settings
from tests.provisioning.test_deploy_workflow_logic import lock_worker
from workflows.provisioning.drift import ReconcileService

DRIFTED = '{"name": "projects/p/locations/us-central1/services/svc-logic", "labels": {"a": "b"}}'


class RecordingDrift:
    """The reconcile's activities under their real names; `fail` names the one that fails for good
    (its first call only)."""

    def __init__(self, fail: str | None) -> None:
        self.calls: list[str] = []
        self.fail = fail
        self.restored: list[RestoreServiceInput] = []

    def _record(self, name: str) -> None:
        self.calls.append(name)
        if name == self.fail and self.calls.count(name) == 1:
            raise ApplicationError(f"{name} refused", non_retryable=True)

    def activities(self) -> list:
        @activity.defn(name=CloudRunSteps.GET_SERVICE)
        async def get_service(call: CloudRunCall) -> CloudRunServiceResult | None:
            self._record("get_service")
            return CloudRunServiceResult(
                service_name=call.service_name, region=call.region, previous_json=DRIFTED
            )

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

        @activity.defn(name=CloudRunSteps.RESTORE_SERVICE)
        async def restore_service(inp: RestoreServiceInput) -> bool:
            self._record("restore_service")
            self.restored.append(inp)
            return True

        @activity.defn(name=PUBLISH_EVENT)
        async def publish(event: Event) -> Published:
            return Published()

        return [get_service, reapply_service, observe_service, restore_service, publish]


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


async def test_a_completed_reconcile_reads_the_live_configuration_first_and_restores_nothing(
    temporal_env,
):
    drift = RecordingDrift(fail=None)
    await run_reconcile(temporal_env, drift, f"reconcile-{uuid.uuid4().hex[:8]}")
    assert drift.calls == ["get_service", "reapply_service", "observe_service"]


async def test_a_reconcile_failing_after_its_update_puts_the_drifted_configuration_back(
    temporal_env,
):
    drift = RecordingDrift(fail="observe_service")
    job_id = f"reconcile-{uuid.uuid4().hex[:8]}"
    with pytest.raises(WorkflowFailureError):
        await run_reconcile(temporal_env, drift, job_id)
    assert drift.calls == [
        "get_service",
        "reapply_service",
        "observe_service",
        "restore_service",
        "observe_service",
    ]
    (restored,) = drift.restored
    assert restored.service_json == DRIFTED
    # Only while the service carries this reconcile's own mark.
    assert restored.only_if_applied_by == job_id
