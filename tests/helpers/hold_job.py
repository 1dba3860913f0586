"""A job of no system for the job machinery's tests: it takes its subject's turn, holds it until
told to `finish`, and completes."""

from __future__ import annotations

from typing import Any

from temporalio import workflow

from contracts.jobs import JobSubject
from workflows.job import TrackedJob
from workflows.saga import Saga
from workflows.tracking import JobTracker


@workflow.defn(name="TestHoldUntilFinished")
class HoldUntilFinished(TrackedJob):
    @workflow.init
    def __init__(self, subject: str) -> None:
        self.tracker = JobTracker("hold", JobSubject(kind="test", name=subject))
        self.finished = False

    @workflow.signal
    def finish(self) -> None:
        self.finished = True

    @workflow.run
    async def run(self, subject: str) -> dict[str, Any]:
        return await self.run_saga(self._hold)

    async def _hold(self, _saga: Saga) -> dict[str, Any]:
        self.tracker.phase("holding", 50)
        await workflow.wait_condition(lambda: self.finished)
        return self.tracker.complete({"held": True})
