"""The workflow sandbox the worker and the replayers run in.

The sandbox imports a workflow's module afresh for every run, with everything that module imports
that is not passed through. The shared job machinery below has no module state a run could leave
for another (its context variables hold per-task values) and reads the clock and randomness only
through `temporalio.workflow`, so it is loaded once and shared: a customer onboarding's three
levels of workflows each paid ~30-80 ms of re-imports on their first task without it (issue 11).
The systems' own workflow modules stay sandboxed, where a stray `datetime.now()` is caught.

The worker encodes and decodes a workflow task's payloads (the codec) one payload sequence at a
time, and for each asks the workflow instance which serialization context the payload belongs to
(an activity's, a child workflow's, the workflow's) and where external storage would keep it, three
or four times per payload; a sandboxed instance answers each by compiling and running a snippet
inside the sandbox (~0.2-0.3 ms). The platform's codec (temporal/codec.py) encrypts every payload
alike, whatever its context, and the workers use no external storage: the runner's instances
answer both questions themselves, for the workflow as a whole, without entering the sandbox. On an
assistant turn that was ~50 ms of the worker's CPU (py-spy: activation handling 163 -> 62 samples
at 200 Hz over 10 turns)."""

from __future__ import annotations

from typing import Any

from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.converter import (
    StorageDriverStoreContext,
    StorageDriverWorkflowInfo,
    WorkflowSerializationContext,
)
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

JOB_MACHINERY = (
    "contracts",
    "temporal.search_attributes",
    "workflows.child_jobs",
    "workflows.hold",
    "workflows.job",
    "workflows.resource_lock",
    "workflows.saga",
    "workflows.steps",
    "workflows.tracking",
)


class _WorkflowWideContext(WorkflowInstance):
    """A sandboxed instance whose payloads all take the workflow's serialization context and
    store context, answered outside the sandbox."""

    def __init__(self, inner: WorkflowInstance, det: WorkflowInstanceDetails) -> None:
        self._inner = inner
        info = det.info
        self._context = WorkflowSerializationContext(
            namespace=info.namespace, workflow_id=info.workflow_id
        )
        self._store = StorageDriverStoreContext(
            target=StorageDriverWorkflowInfo(
                id=info.workflow_id,
                run_id=info.run_id,
                type=info.workflow_type,
                namespace=info.namespace,
            )
        )

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        return self._inner.activate(act)

    def get_serialization_context(self, command_info: Any) -> WorkflowSerializationContext:
        return self._context

    def get_external_store_context(self, command_info: Any) -> StorageDriverStoreContext:
        return self._store

    def get_info(self) -> Any:
        return self._inner.get_info()

    def get_thread_id(self) -> int | None:
        return self._inner.get_thread_id()


class PlatformSandboxRunner(SandboxedWorkflowRunner):
    """The SDK's sandbox, each instance answering its payloads' contexts itself (see above)."""

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _WorkflowWideContext(super().create_instance(det), det)


def workflow_runner() -> SandboxedWorkflowRunner:
    return PlatformSandboxRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*JOB_MACHINERY)
    )
