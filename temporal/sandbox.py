"""The workflow sandbox the worker and the replayers run in.

The sandbox imports a workflow's module afresh for every run, with everything that module imports
that is not passed through. The shared job machinery below has no module state a run could leave
for another (its context variables hold per-task values) and reads the clock and randomness only
through `temporalio.workflow`, so it is loaded once and shared: a customer onboarding's three
levels of workflows each paid ~30-80 ms of re-imports on their first task without it (issue 11).
The systems' own workflow modules stay sandboxed, where a stray `datetime.now()` is caught."""

from __future__ import annotations

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


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*JOB_MACHINERY)
    )
