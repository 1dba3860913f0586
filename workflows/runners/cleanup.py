"""RunnerCleanup (seed 004 `POST /runners/cleanup`, and the Schedule that runs it every few
minutes): removes exited runner containers and offline platform runners no running job owns."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.runners.names import Operations, RunnerSteps, Workflows
    from contracts.runners.runners import CleanupInput, CleanupResult

from workflows.job import TrackedJob
from workflows.steps import step
from workflows.tracking import JobTracker

# The sweep lists containers and GitHub runners and removes orphans: minutes at most.
_SWEEP = timedelta(minutes=10)


@workflow.defn(name=Workflows.RUNNER_CLEANUP)
class RunnerCleanup(TrackedJob):
    @workflow.init
    def __init__(self, inp: CleanupInput) -> None:
        # No subject: it touches only what no job owns, so it waits for no runner's turn.
        self.tracker = JobTracker(Operations.RUNNER_CLEANUP, None)

    @workflow.run
    async def run(self, inp: CleanupInput) -> dict[str, Any]:
        return await self.run_saga(lambda saga: self._clean(inp))

    async def _clean(self, inp: CleanupInput) -> dict[str, Any]:
        self.tracker.phase(
            "cleaning", 20, "looking for orphaned runner containers and registrations"
        )
        result = await step(
            RunnerSteps.CLEANUP,
            inp,
            CleanupResult,
            heartbeat=timedelta(seconds=30),
            start_to_close=_SWEEP,
        )
        cleaned = result.cleaned
        return self.tracker.complete(
            {
                "cleaned_count": len(cleaned),
                "cleaned_runners": cleaned,
                "containers": result.containers,
                "github_runners": result.github_runners,
            },
            f"cleaned {len(cleaned)} orphan(s)",
        )
