"""LearnApi: learns an API from its OpenAPI or Swagger document. One activity fetches it (through
the outbound guard: only public addresses, or those the allow-list names), parses it and stores
each operation as a tool; then `api.learned` is published. One that fails or is cancelled removes
what it stored (the rows carry its job id), so it leaves no learned API. The document never enters
the history (it may be megabytes); the credentials travel as a secret's name only."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.assistant.learned import LearnedApiSummary, LearnInput, LearnRequest
    from contracts.assistant.names import LearnSteps, Operations, Workflows
    from contracts.assistant.webhooks import Event, Published
    from contracts.events import PUBLISH_EVENT

from workflows.job import TrackedJob
from workflows.saga import Saga
from workflows.steps import step
from workflows.tracking import JobTracker

_LEARN = timedelta(minutes=2)
_PUBLISH = timedelta(seconds=30)
_FORGET = timedelta(seconds=30)
# Learnings started before it left what they wrote when they failed: replays of those register
# no undo.
FORGET_PATCH = "learn-api-forgets-on-failure"


@workflow.defn(name=Workflows.LEARN_API)
class LearnApi(TrackedJob):
    @workflow.init
    def __init__(self, inp: LearnInput) -> None:
        self.tracker = JobTracker(Operations.LEARN_API, None, {"learned_api": inp.api_id})

    @workflow.run
    async def run(self, inp: LearnInput) -> dict[str, Any]:
        return await self.run_saga(lambda saga: self._learn(inp, saga))

    async def _learn(self, inp: LearnInput, saga: Saga) -> dict[str, Any]:
        track = self.tracker
        job_id = workflow.info().workflow_id
        request = LearnRequest(job_id=job_id, learn=inp)
        if workflow.patched(FORGET_PATCH):
            # Before the step: a step failed or cancelled after its write is undone too.
            saga.on_failure(
                "forget the learned API",
                lambda: step(LearnSteps.FORGET, request, bool, start_to_close=_FORGET),
            )
        track.phase("learning", 20, f"fetching and reading the {inp.type} document")
        summary = await step(
            LearnSteps.LEARN,
            request,
            LearnedApiSummary,
            start_to_close=_LEARN,
        )
        track.phase("publishing", 90, f"learned {summary.endpoints} endpoint(s)")
        await step(
            PUBLISH_EVENT,
            Event(
                id=f"{job_id}:api.learned",
                type="api.learned",
                created_at=workflow.now().isoformat(timespec="seconds").replace("+00:00", "Z"),
                data={
                    "api_id": summary.api_id,
                    "name": summary.name,
                    "endpoints": summary.endpoints,
                    "job_id": job_id,
                },
            ),
            Published,
            start_to_close=_PUBLISH,
        )
        return track.complete(summary.model_dump(), f"learned {summary.endpoints} endpoint(s)")
