"""The runners' cleanup after a force-cancel: the containers labelled with the terminated job's id,
and the GitHub registrations their labels name. A registration made before its container existed
is left to the orphan reaper (RunnerCleanup), which removes offline platform runners."""

from __future__ import annotations

from temporalio import activity

from activities.runners.containers import RunnerActivities, _job_containers, _remove
from contracts.job_cleanup import JobCleanupInput, JobCleanupResult
from contracts.runners.names import RunnerSteps
from contracts.runners.runners import (
    GITHUB_RUNNER_LABEL,
    SCOPE_LABEL,
    SCOPE_NAME_LABEL,
    RunnerTarget,
)
from core.settings import Settings
from providers.github_runners import as_temporal_failures as github_failures
from store.db import Database
from store.runners import records


class RunnerJobCleanup:
    def __init__(self, settings: Settings, db: Database | None = None) -> None:
        self.runners = RunnerActivities(settings, db)

    @activity.defn(name=RunnerSteps.CLEANUP_AFTER_TERMINATE)
    async def cleanup_after_terminate(self, inp: JobCleanupInput) -> JobCleanupResult:
        result = JobCleanupResult()
        docker = self.runners._docker
        for container in await docker("finding the job's containers", _job_containers, inp.job_id):
            labels = container.labels
            if await docker("removing the runner container", _remove, container.id):
                result.removed.append(f"runner container {container.name}")
            github_id = labels.get(GITHUB_RUNNER_LABEL, "")
            if github_id.isdigit() and labels.get(SCOPE_LABEL) and labels.get(SCOPE_NAME_LABEL):
                target = RunnerTarget(
                    scope=labels[SCOPE_LABEL], scope_name=labels[SCOPE_NAME_LABEL]
                )
                with github_failures(f"removing GitHub runner {github_id}"):
                    if await self.runners.github.delete(target, int(github_id)):
                        result.removed.append(f"GitHub runner {github_id}")
        await records.forget(self.runners.db, [inp.job_id])
        return result
