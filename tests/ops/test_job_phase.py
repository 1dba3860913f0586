"""A finished job's `ConneskillsJobPhase` is its final phase, not `running` (issue 7, #22)."""

from __future__ import annotations

import uuid

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from contracts.provisioning.names import Workflows
from contracts.provisioning.services import DeployServiceInput, ServiceSpec
from contracts.task_queues import queue_for_workflow
from core.settings import Settings
from temporal import search_attributes as sa
from workflows.provisioning.services import DeployService


def _deploy(name: str) -> DeployServiceInput:
    spec = ServiceSpec(service_name=name, image="us-docker.pkg.dev/cloudrun/container/hello")
    return DeployServiceInput(spec=spec, region="us-central1")


async def _start(client: Client, settings: Settings, name: str):
    return await client.start_workflow(
        DeployService.run,
        _deploy(name),
        id=f"deploy-{uuid.uuid4().hex[:12]}",
        task_queue=queue_for_workflow(settings.task_queue, Workflows.DEPLOY_SERVICE),
        search_attributes=TypedSearchAttributes([SearchAttributePair(sa.JOB_PHASE, "queued")]),
    )


async def test_completed_job_phase(client: Client, settings: Settings, worker) -> None:
    handle = await _start(client, settings, f"phase-{uuid.uuid4().hex[:8]}")
    await handle.result()
    described = await handle.describe()
    assert described.typed_search_attributes.get(sa.JOB_PHASE) == "completed"


async def test_failed_job_phase(client: Client, settings: Settings, worker, clean_faults) -> None:
    name = f"phase-{uuid.uuid4().hex[:8]}"
    refusal = clean_faults.inject_fault(
        fail_next=5, code=400, method="POST", path_contains=f"serviceId={name}"
    )
    handle = await _start(client, settings, name)
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    assert clean_faults.fired(refusal) == 1  # a 400 is final: one attempt
    described = await handle.describe()
    assert described.typed_search_attributes.get(sa.JOB_PHASE) == "failed"
