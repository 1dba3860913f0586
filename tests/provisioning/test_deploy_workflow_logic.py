"""DeployService's saga logic with recording activities standing in for Cloud Run: which undo runs,
in which order, after which failure. Runs on the session's dev server, each test on its own queue."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.worker import Worker

from activities.jobs import JobActivities
from contracts.provisioning.names import CloudRunSteps, RegistrySteps
from contracts.provisioning.services import (
    ApplyServiceInput,
    CloudRunCall,
    CloudRunServiceResult,
    DeployServiceInput,
    IamPolicyInput,
    RestoreInvokersInput,
    RestoreServiceInput,
    ServiceRecordInput,
    ServiceSpec,
)
from core.settings import Settings
from tests.helpers.lock_worker import lock_worker
from workflows.provisioning.services import DeployService


class RecordingCloud:
    """Activities under the real names that record calls; `fail` names the one that fails for good."""

    def __init__(self, existing: bool, fail: str | None) -> None:
        self.calls: list[str] = []
        self.existing = existing
        self.fail = fail

    def _record(self, name: str) -> None:
        self.calls.append(name)
        if name == self.fail:
            raise ApplicationError(f"{name} refused", type="InvalidArgument", non_retryable=True)

    def result(self, name: str) -> CloudRunServiceResult:
        return CloudRunServiceResult(
            service_name=name,
            region="us-central1",
            uri="https://x",
            latest_revision=f"{name}-00001",
            previous_json="{}",
        )

    def activities(self) -> list:
        @activity.defn(name=CloudRunSteps.GET_SERVICE)
        async def get_service(call: CloudRunCall) -> CloudRunServiceResult | None:
            self._record("get_service")
            return self.result(call.service_name) if self.existing else None

        @activity.defn(name=CloudRunSteps.APPLY_SERVICE)
        async def apply_service(inp: ApplyServiceInput) -> CloudRunServiceResult:
            self._record("apply_service")
            return self.result(inp.spec.service_name)

        @activity.defn(name=CloudRunSteps.RESTORE_SERVICE)
        async def restore_service(inp: RestoreServiceInput) -> bool:
            self._record("restore_service")
            return True

        @activity.defn(name=CloudRunSteps.DELETE_SERVICE)
        async def delete_service(call: CloudRunCall) -> bool:
            self._record("delete_service")
            return True

        @activity.defn(name=CloudRunSteps.GET_INVOKERS)
        async def get_invokers(call: CloudRunCall) -> list[str]:
            self._record("get_invokers")
            return ["allUsers"]

        @activity.defn(name=CloudRunSteps.SET_INVOKERS)
        async def set_invokers(inp: IamPolicyInput) -> list[str]:
            self._record("set_invokers")
            return []

        @activity.defn(name=CloudRunSteps.RESTORE_INVOKERS)
        async def restore_invokers(inp: RestoreInvokersInput) -> bool:
            self._record("restore_invokers")
            return True

        @activity.defn(name=RegistrySteps.UPSERT_SERVICE)
        async def upsert_service(inp: ServiceRecordInput) -> None:
            self._record("upsert_service")

        @activity.defn(name=RegistrySteps.CUSTOMER_FOR_SERVICE)
        async def customer_for_service(call: CloudRunCall) -> str | None:
            self._record("customer_for_service")
            return None

        @activity.defn(name=RegistrySteps.REMOVE_SERVICE)
        async def remove_service(call: CloudRunCall) -> bool:
            self._record("remove_service")
            return True

        return [
            get_service,
            apply_service,
            restore_service,
            delete_service,
            get_invokers,
            set_invokers,
            restore_invokers,
            upsert_service,
            remove_service,
            customer_for_service,
        ]


async def run_deploy(env, cloud: RecordingCloud, operation: str = "deploy", public=None):
    queue = f"logic-{uuid.uuid4().hex[:8]}"
    spec = ServiceSpec(service_name="svc-logic", image="img", allow_public_access=public)
    jobs = JobActivities(env.client, Settings(job_lock_check_seconds=1.0, task_queue=queue))
    async with (
        lock_worker(env.client, queue, jobs),
        Worker(
            env.client,
            task_queue=queue,
            workflows=[DeployService],
            activities=[*cloud.activities(), *jobs.all()],
        ),
    ):
        return await env.client.execute_workflow(
            DeployService.run,
            DeployServiceInput(spec=spec, operation=operation, region="us-central1"),
            id=f"logic-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )


async def test_a_new_service_runs_every_step_once(temporal_env):
    cloud = RecordingCloud(existing=False, fail=None)
    result = await run_deploy(temporal_env, cloud)
    assert result["created"] is True and result["public_access"] is False
    assert cloud.calls == [
        "customer_for_service",
        "get_service",
        "apply_service",
        "set_invokers",
        "upsert_service",
    ]


async def test_a_failed_access_step_deletes_the_new_service(temporal_env):
    cloud = RecordingCloud(existing=False, fail="set_invokers")
    with pytest.raises(WorkflowFailureError) as failure:
        await run_deploy(temporal_env, cloud)
    assert "set_invokers refused" in str(failure.value.cause)
    assert cloud.calls == [
        "customer_for_service",
        "get_service",
        "apply_service",
        "set_invokers",
        "delete_service",
    ]


async def test_a_failed_registry_step_after_an_update_undoes_in_reverse_order(temporal_env):
    cloud = RecordingCloud(existing=True, fail="upsert_service")
    with pytest.raises(WorkflowFailureError):
        await run_deploy(temporal_env, cloud, operation="update", public=True)
    assert cloud.calls == [
        "customer_for_service",
        "get_service",
        "apply_service",
        "get_invokers",
        "set_invokers",
        "upsert_service",
        "restore_invokers",
        "restore_service",
    ]


async def test_an_update_leaves_access_alone_when_the_request_does_not_mention_it(temporal_env):
    cloud = RecordingCloud(existing=True, fail=None)
    result = await run_deploy(temporal_env, cloud, operation="update")
    assert result["created"] is False
    assert "set_invokers" not in cloud.calls


class GoneDuringApply(RecordingCloud):
    """apply_service's worker "dies" once started: no heartbeat, no answer to the cancel."""

    def __init__(self) -> None:
        super().__init__(existing=False, fail=None)
        self.applying = asyncio.Event()
        self.release = asyncio.Event()

    def activities(self) -> list:
        others = [a for a in super().activities() if a.__name__ != "apply_service"]

        @activity.defn(name=CloudRunSteps.APPLY_SERVICE)
        async def apply_service(inp: ApplyServiceInput) -> CloudRunServiceResult:
            self._record("apply_service")
            self.applying.set()
            await self.release.wait()
            return self.result(inp.spec.service_name)

        return [*others, apply_service]


async def cancel_during_apply(temporal_env, answer_after_cancel: bool):
    """A deploy cancelled while its apply step is running on a worker that cannot hear the cancel
    (no heartbeat). With `answer_after_cancel` the step then answers; otherwise the worker is gone
    and the step ends by its heartbeat timeout. Returns the failure, the final state and the calls."""
    cloud = GoneDuringApply()
    queue = f"logic-{uuid.uuid4().hex[:8]}"
    spec = ServiceSpec(service_name=f"svc-{uuid.uuid4().hex[:8]}", image="img")
    jobs = JobActivities(
        temporal_env.client, Settings(job_lock_check_seconds=1.0, task_queue=queue)
    )
    async with (
        lock_worker(temporal_env.client, queue, jobs),
        Worker(
            temporal_env.client,
            task_queue=queue,
            workflows=[DeployService],
            activities=[*cloud.activities(), *jobs.all()],
            graceful_shutdown_timeout=timedelta(seconds=1),
        ),
    ):
        handle = await temporal_env.client.start_workflow(
            DeployService.run,
            DeployServiceInput(spec=spec, region="us-central1"),
            id=f"logic-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
        )
        await asyncio.wait_for(cloud.applying.wait(), 30)
        await handle.cancel()
        if answer_after_cancel:
            # Let the cancel reach the workflow before the step answers.
            await asyncio.sleep(1)
            cloud.release.set()
        try:
            with pytest.raises(WorkflowFailureError) as failure:
                await handle.result()
        finally:
            cloud.release.set()
        state = await handle.query(DeployService.job_state)
    return failure.value, state, cloud.calls


async def test_a_step_that_times_out_after_the_cancel_ends_the_job_cancelled_and_undone(
    temporal_env,
):
    failure, state, calls = await cancel_during_apply(temporal_env, answer_after_cancel=False)
    assert isinstance(failure.cause, CancelledError), failure.cause
    assert state.current_phase == "cancelled" and state.error == "cancelled by request"
    assert calls[-1] == "delete_service"


async def test_a_step_that_completes_after_the_cancel_does_not_swallow_it(temporal_env):
    failure, state, calls = await cancel_during_apply(temporal_env, answer_after_cancel=True)
    assert isinstance(failure.cause, CancelledError), failure.cause
    assert state.current_phase == "cancelled", state
    assert calls[calls.index("apply_service") + 1 :] == ["delete_service"], calls
