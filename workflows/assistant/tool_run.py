"""AssistantToolRun: one tool run directly (`POST /api/tools/execute`), as a job of its own. It runs
the same `assistant.run_tool` activity a chat turn runs, so a direct execution reads (or, for a
mutating tool, starts) exactly what a turn's call would. The API decides before starting it whether
the call is allowed (autonomy level, enabled providers); a tool's refusal (a 404, invalid
arguments) is the job's result with `ok: false`, not a failure."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.assistant.names import Operations, TurnSteps, Workflows
    from contracts.assistant.turn import ToolResult, ToolRunInput

from workflows.job import TrackedJob
from workflows.steps import step
from workflows.tracking import JobTracker

_TOOL = timedelta(minutes=1)


@workflow.defn(name=Workflows.ASSISTANT_TOOL)
class AssistantToolRun(TrackedJob):
    @workflow.init
    def __init__(self, inp: ToolRunInput) -> None:
        self.tracker = JobTracker(Operations.ASSISTANT_TOOL, None)

    @workflow.run
    async def run(self, inp: ToolRunInput) -> dict[str, Any]:
        return await self.run_saga(lambda saga: self._run(inp))

    async def _run(self, inp: ToolRunInput) -> dict[str, Any]:
        track = self.tracker
        track.phase("running", 50, f"running {inp.call.name}")
        result = await step(TurnSteps.RUN_TOOL, inp.call, ToolResult, start_to_close=_TOOL)
        return track.complete(result.model_dump(), f"{inp.call.name}: ok={result.ok}")
