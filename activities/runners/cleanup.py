"""The orphan reaper as an activity: runner containers and GitHub registrations that no running
runner job owns (and the drift observer's records of runners whose job has ended). Only what
carries the platform's marks is touched (container labels, the platform's runner label on GitHub),
never a team's own runners."""

from __future__ import annotations

from typing import Any

import structlog
from docker.errors import NotFound
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from activities.blocking import settle_in_thread
from contracts.runners.names import Operations, RunnerSteps
from contracts.runners.runners import (
    JOB_LABEL,
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    PLATFORM_RUNNER_LABEL,
    CleanupInput,
    CleanupResult,
    RunnerTarget,
)
from core.settings import Settings
from providers import docker_engine
from providers.github_runners import GitHubRunners
from providers.github_runners import as_temporal_failures as github_failures
from store.db import Database
from store.runners import records
from temporal import search_attributes as sa
from temporal.client import connect

log = structlog.get_logger(__name__)
# How many recent runner jobs are read for the scopes they used.
_RECENT_JOBS = 500


class CleanupActivities:
    def __init__(self, settings: Settings, db: Database | None = None) -> None:
        self.settings = settings
        self.db = db
        self._client: Client | None = None

    async def _temporal(self) -> Client:
        if self._client is None:
            self._client = await connect(self.settings)
        return self._client

    @activity.defn(name=RunnerSteps.CLEANUP)
    async def cleanup(self, inp: CleanupInput) -> CleanupResult:
        client = await self._temporal()
        result = CleanupResult()
        containers = await settle_in_thread(self._platform_containers)
        for container in containers:
            activity.heartbeat()
            job_id = container["Labels"].get(JOB_LABEL)
            if await _job_running(client, job_id):
                continue
            if container["State"] == "running" and job_id is None:
                continue
            if await settle_in_thread(self._remove, container["Id"]):
                result.containers.append(container["Id"])
            if job_id:
                await records.forget(self.db, [job_id])
        # A runner recorded whose job ended without forgetting it (its container already gone).
        for job_id in await records.known(self.db):
            activity.heartbeat()
            if not await _job_running(client, job_id):
                await records.forget(self.db, [job_id])
        running_names, scopes = await _runner_jobs(client)
        scopes |= {(t.scope, t.scope_name) for t in inp.scopes}
        github = GitHubRunners(self.settings)
        for scope, scope_name in sorted(scopes):
            target = RunnerTarget(scope=scope, scope_name=scope_name)
            activity.heartbeat()
            with github_failures(f"listing the runners of {scope_name}"):
                try:
                    runners = await github.list(target)
                except Exception as error:  # a scope that no longer exists has nothing to clean
                    if getattr(getattr(error, "response", None), "status_code", None) == 404:
                        continue
                    raise
            for runner in runners:
                labels = {label["name"] for label in runner.get("labels", [])}
                if (
                    runner.get("status") != "offline"
                    or runner.get("busy")
                    or PLATFORM_RUNNER_LABEL not in labels
                    or runner["name"] in running_names.get((scope, scope_name), set())
                ):
                    continue
                with github_failures(f"removing GitHub runner {runner['id']}"):
                    if await github.delete(target, runner["id"]):
                        result.github_runners.append(f"{scope_name}:{runner['name']}")
        log.info(
            "runner cleanup",
            containers=len(result.containers),
            github_runners=len(result.github_runners),
        )
        return result

    def _platform_containers(self) -> list[dict[str, Any]]:
        with docker_engine.as_temporal_failures("listing the runner containers"):
            docker = docker_engine.client(self.settings)
            return docker.api.containers(
                all=True, filters={"label": [f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}"]}
            )

    def _remove(self, container_id: str) -> bool:
        with docker_engine.as_temporal_failures("removing an orphaned runner container"):
            try:
                docker_engine.client(self.settings).api.remove_container(container_id, force=True)
            except NotFound:
                return False
            return True


async def _job_running(client: Client, job_id: str | None) -> bool:
    """Asked of the job itself (not of visibility, which may lag behind a start)."""
    if not job_id:
        return False
    try:
        description = await client.get_workflow_handle(job_id).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return description.status == WorkflowExecutionStatus.RUNNING


async def _runner_jobs(
    client: Client,
) -> tuple[dict[tuple[str, str], set[str]], set[tuple[str, str]]]:
    """The runner names running jobs own, per scope, and every scope recent runner jobs used."""
    owned: dict[tuple[str, str], set[str]] = {}
    scopes: set[tuple[str, str]] = set()
    query = f"{sa.OPERATION.name} = '{Operations.RUNNER}'"
    async for execution in client.list_workflows(query, limit=_RECENT_JOBS):
        labels = dict(
            value.split("=", 1)
            for value in execution.typed_search_attributes.get(sa.LABELS) or []
            if "=" in value
        )
        if "scope" not in labels or "scope_name" not in labels:
            continue
        key = (labels["scope"], labels["scope_name"])
        scopes.add(key)
        if execution.status == WorkflowExecutionStatus.RUNNING and "runner" in labels:
            owned.setdefault(key, set()).add(labels["runner"])
    return owned, scopes
