"""EphemeralRunner (seed 004): one GitHub Actions runner's whole life as a job, the job id being the
runner id. JIT config + container → running → its one job (heartbeating, bounded by a lifetime) →
container removed → registration gone from GitHub → completed. A cancel (DELETE /runners/{id})
stops and removes the container and deletes the registration."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.jobs import JobSubject
    from contracts.runners.names import Operations, RunnerSteps, Workflows
    from contracts.runners.runners import (
        AwaitExitInput,
        ContainerRef,
        DeregisterInput,
        EphemeralRunnerInput,
        RunnerExit,
        StartedRunner,
        StartRunnerInput,
        TeardownInput,
    )

from workflows.job import TrackedJob
from workflows.saga import Saga
from workflows.steps import job_heartbeat, step
from workflows.tracking import JobTracker

# Beyond the runner's own lifetime: the waiting step's attempts may take this much longer to see
# the container stop (and a crashed worker's attempt to time out and be retried).
_AWAIT_MARGIN = timedelta(minutes=5)

# One attempt of each step, per its work: a container start (an image pull) or removal, a GitHub
# REST call.
_CONTAINER = timedelta(minutes=5)
_QUICK = timedelta(minutes=1)


@workflow.defn(name=Workflows.EPHEMERAL_RUNNER)
class EphemeralRunner(TrackedJob):
    @workflow.init
    def __init__(self, inp: EphemeralRunnerInput) -> None:
        self.tracker = JobTracker(
            Operations.RUNNER,
            JobSubject(kind="runner", name=inp.runner_name),
            {
                "runner": inp.runner_name,
                "scope": inp.target.scope,
                "scope_name": inp.target.scope_name,
            },
        )
        self.github_runner_id: int | None = None

    @workflow.run
    async def run(self, inp: EphemeralRunnerInput) -> dict[str, Any]:
        return await self.run_saga(lambda saga: self._live(inp, saga))

    def _teardown(self, inp: EphemeralRunnerInput) -> TeardownInput:
        return TeardownInput(
            job_id=workflow.info().workflow_id,
            target=inp.target,
            github_runner_id=self.github_runner_id,
        )

    async def _live(self, inp: EphemeralRunnerInput, saga: Saga) -> dict[str, Any]:
        track = self.tracker
        job_id = workflow.info().workflow_id
        track.phase(
            "creating", 10, f"registering {inp.runner_name} with GitHub ({inp.target.scope_name})"
        )
        saga.on_failure(
            "stop and remove the container, delete the GitHub registration",
            lambda: step(RunnerSteps.TEARDOWN, self._teardown(inp), start_to_close=_CONTAINER),
        )
        started = await step(
            RunnerSteps.START,
            StartRunnerInput(job_id=job_id, runner=inp),
            StartedRunner,
            # The job's heartbeat timeout: the step heartbeats while its Docker call is in flight.
            start_to_close=_CONTAINER,
        )
        self.github_runner_id = started.github_runner_id
        track.label(
            "container", started.container_id[:12], f"container {started.container_id[:12]} started"
        )
        track.label(
            "github_runner",
            str(started.github_runner_id),
            f"GitHub runner id {started.github_runner_id}",
        )

        track.phase("running", 40, "running: waiting for the runner's one job to end")
        lifetime = timedelta(seconds=inp.max_lifetime_seconds)
        deadline = workflow.now() + lifetime
        ended = await step(
            RunnerSteps.AWAIT_EXIT,
            AwaitExitInput(
                container_id=started.container_id,
                deadline_epoch=deadline.timestamp(),
                poll_seconds=inp.poll_seconds,
            ),
            RunnerExit,
            start_to_close=lifetime + _AWAIT_MARGIN,
            # It heartbeats at every poll and while a Docker call is in flight.
            heartbeat=job_heartbeat(at_least=timedelta(seconds=inp.poll_seconds * 3)),
            long_wait=True,
        )
        outcome = {
            "exited": f"the runner exited (code {ended.exit_code})",
            "gone": "the container was gone",
            "lifetime_exceeded": f"the runner outlived its {inp.max_lifetime_seconds:.0f} s lifetime and was stopped",
        }[ended.outcome]

        track.phase("removing", 70, f"{outcome}; removing its container")
        await step(
            RunnerSteps.REMOVE_CONTAINER,
            ContainerRef(container_id=started.container_id),
            bool,
            start_to_close=_CONTAINER,
        )

        track.phase("deregistering", 85, "making sure the runner is gone from GitHub")
        removed = await step(
            RunnerSteps.DEREGISTER,
            DeregisterInput(target=inp.target, github_runner_id=started.github_runner_id),
            bool,
            start_to_close=_QUICK,
        )
        return track.complete(
            {
                "runner_id": job_id,
                "runner_name": inp.runner_name,
                "container_id": started.container_id,
                "github_runner_id": started.github_runner_id,
                "outcome": ended.outcome,
                "exit_code": ended.exit_code,
                "registration": "removed" if removed else "already gone",
                "destroyed": True,
            },
            f"{outcome}; nothing left behind",
        )
