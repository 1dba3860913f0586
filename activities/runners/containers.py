"""A runner's life outside the platform: register with GitHub and start its container, wait for its
one job, remove the container, make sure the registration is gone. Every activity is idempotent:
what the job made carries its id (container labels), and a retried start resumes what it began."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import structlog
from docker.errors import ImageNotFound, NotFound
from temporalio import activity

from activities.blocking import settle_in_thread
from contracts.runners.names import RunnerSteps
from contracts.runners.runners import (
    GITHUB_RUNNER_LABEL,
    JOB_LABEL,
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    PLATFORM_RUNNER_LABEL,
    SCOPE_LABEL,
    SCOPE_NAME_LABEL,
    AwaitExitInput,
    ContainerRef,
    DeregisterInput,
    RunnerExit,
    StartedRunner,
    StartRunnerInput,
    TeardownInput,
    TeardownResult,
)
from core.settings import Settings
from providers import docker_engine
from providers.github_runners import GitHubRunners
from providers.github_runners import as_temporal_failures as github_failures
from store.db import Database
from store.runners import records

log = structlog.get_logger(__name__)
JIT_ENV = "ACTIONS_RUNNER_INPUT_JITCONFIG"


def container_name(job_id: str) -> str:
    return f"gha-{job_id}"


class RunnerActivities:
    def __init__(self, settings: Settings, db: Database | None = None) -> None:
        self.settings = settings
        # Where what was applied to each container is recorded for the drift observer.
        self.db = db
        self._github: GitHubRunners | None = None

    @property
    def github(self) -> GitHubRunners:
        if self._github is None:
            self._github = GitHubRunners(self.settings)
        return self._github

    async def _docker(
        self, what: str, fn, *args: Any, beat: tuple[Any, ...] = (), **kwargs: Any
    ) -> Any:
        """A blocking Docker call; `beat`: the details an activity that heartbeats by itself keeps
        beating while the call is in flight (without them the worker keeps it alive)."""

        def call() -> Any:
            with docker_engine.as_temporal_failures(what):
                return fn(docker_engine.client(self.settings), *args, **kwargs)

        return await settle_in_thread(call, heartbeat_details=beat)

    def all(self) -> list:
        return [self.start, self.await_exit, self.remove_container, self.deregister, self.teardown]

    @activity.defn(name=RunnerSteps.START)
    async def start(self, inp: StartRunnerInput) -> StartedRunner:
        """JIT config from GitHub, then the container that runs it. A retry finds the job's
        container (by label) and starts it if needed; a registration a failed attempt made (its
        id is in the heartbeat) is removed before registering again, so the name stays free."""
        runner, job_id = inp.runner, inp.job_id
        existing = await self._docker("finding the runner's container", _job_containers, job_id)
        if existing:
            container = existing[0]
            await self._docker("starting the runner container", _start_if_created, container.id)
            await records.remember(
                self.db,
                job_id,
                runner.target.scope_name,
                records.applied(container_name(job_id), runner.image, container.labels),
            )
            return StartedRunner(
                container_id=container.id,
                github_runner_id=int(container.labels[GITHUB_RUNNER_LABEL]),
                created=container.attrs.get("Created"),
            )
        earlier = activity.info().heartbeat_details
        if earlier:
            with github_failures("removing the registration of an earlier attempt"):
                await self.github.delete(runner.target, int(earlier[0]))
        with github_failures(f"registering runner {runner.runner_name} with GitHub"):
            group = await self.github.group_id(runner.target, runner.runner_group)
            labels = list(dict.fromkeys([*runner.labels, PLATFORM_RUNNER_LABEL]))
            github_id, jitconfig = await self.github.jitconfig(
                runner.target, runner.runner_name, labels, group
            )
        # Recorded at once: an attempt that dies from here on leaves a registration the next
        # attempt (or the compensation) knows is this job's.
        activity.heartbeat(github_id)
        container_labels = {
            MANAGED_BY_LABEL: MANAGED_BY_VALUE,
            JOB_LABEL: job_id,
            GITHUB_RUNNER_LABEL: str(github_id),
            SCOPE_LABEL: runner.target.scope,
            SCOPE_NAME_LABEL: runner.target.scope_name,
        }
        try:
            container = await self._docker(
                f"starting the container of runner {runner.runner_name}",
                _run_container,
                runner.image,
                runner.command,
                container_name(job_id),
                {JIT_ENV: jitconfig},
                container_labels,
                runner.network,
                # The registration's id again, every second while the container starts (an image
                # pull may take long): the step has the job's heartbeat timeout, so an attempt on a
                # lost worker is retried within seconds, and the retry still finds the id.
                beat=(github_id,),
            )
        except BaseException:
            with github_failures("removing the registration after a failed container start"):
                await self.github.delete(runner.target, github_id)
            raise
        await records.remember(
            self.db,
            job_id,
            runner.target.scope_name,
            records.applied(container_name(job_id), runner.image, container_labels),
        )
        log.info("runner started", job_id=job_id, container_id=container.id, github_id=github_id)
        return StartedRunner(
            container_id=container.id,
            github_runner_id=github_id,
            created=container.attrs.get("Created"),
        )

    @activity.defn(name=RunnerSteps.AWAIT_EXIT)
    async def await_exit(self, inp: AwaitExitInput) -> RunnerExit:
        """Polls the container, heartbeating, until it exits or the runner's lifetime (a fixed
        deadline, so a retried attempt does not extend it) is over; then it is stopped."""
        while True:
            activity.heartbeat()
            state = await self._docker("reading the runner container", _state, inp.container_id)
            if state is None:
                return RunnerExit(outcome="gone")
            if state["Status"] in ("exited", "dead"):
                return RunnerExit(outcome="exited", exit_code=state.get("ExitCode"))
            if time.time() >= inp.deadline_epoch:
                await self._docker("stopping the runner container", _stop, inp.container_id)
                return RunnerExit(outcome="lifetime_exceeded")
            await asyncio.sleep(inp.poll_seconds)

    @activity.defn(name=RunnerSteps.REMOVE_CONTAINER)
    async def remove_container(self, ref: ContainerRef) -> bool:
        removed = await self._docker("removing the runner container", _remove, ref.container_id)
        # Run by the runner's own job, whose id is the runner's: no longer the platform's.
        await records.forget(self.db, [activity.info().workflow_id])
        return removed

    @activity.defn(name=RunnerSteps.DEREGISTER)
    async def deregister(self, inp: DeregisterInput) -> bool:
        """True when this call removed it; False when it was gone already (the runner removes
        itself after a clean exit). "Still running a job" is retried until the job ends."""
        with github_failures(f"removing GitHub runner {inp.github_runner_id}"):
            return await self.github.delete(inp.target, inp.github_runner_id)

    @activity.defn(name=RunnerSteps.TEARDOWN)
    async def teardown(self, inp: TeardownInput) -> TeardownResult:
        """The compensation: every container of this job stopped and removed, and the GitHub
        registration this job made (by id, never by name: a name may be someone else's) deleted."""
        result = TeardownResult()
        github_id = inp.github_runner_id
        for container in await self._docker(
            "finding the job's containers", _job_containers, inp.job_id
        ):
            if github_id is None and container.labels.get(GITHUB_RUNNER_LABEL, "").isdigit():
                github_id = int(container.labels[GITHUB_RUNNER_LABEL])
            if await self._docker("removing the runner container", _remove, container.id):
                result.containers_removed.append(container.id)
        await records.forget(self.db, [inp.job_id])
        if github_id is None:
            earlier = activity.info().heartbeat_details
            github_id = int(earlier[0]) if earlier else None
        if github_id is not None:
            with github_failures(f"removing GitHub runner {github_id}"):
                result.registration_removed = await self.github.delete(inp.target, github_id)
        return result


# --- blocking Docker calls (run in a thread) -----------------------------------------------------


def _job_containers(docker, job_id: str) -> list:
    """The job's runner containers: its id and the runners' own mark (hosting's containers carry
    the same `conneskills.job-id` label, under hosting's `managed-by`, and are not runners')."""
    labels = [f"{JOB_LABEL}={job_id}", f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}"]
    return docker.containers.list(all=True, filters={"label": labels})


def _start_if_created(docker, container_id: str) -> None:
    container = docker.containers.get(container_id)
    if container.status == "created":
        container.start()


def _run_container(docker, image, command, name, environment, labels, network):
    try:
        docker.images.get(image)
    except ImageNotFound:
        repository, _, tag = (
            image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "")
        )
        docker.images.pull(repository, tag=tag or "latest")
    kwargs: dict[str, Any] = {
        "name": name,
        "detach": True,
        "environment": environment,
        "labels": labels,
    }
    if command:
        kwargs["command"] = command
    if network:
        kwargs["network"] = network
    return docker.containers.run(image, **kwargs)


def _state(docker, container_id: str) -> dict[str, Any] | None:
    try:
        return docker.api.inspect_container(container_id)["State"]
    except NotFound:
        return None


def _stop(docker, container_id: str) -> None:
    try:
        docker.api.stop(container_id, timeout=10)
    except NotFound:
        return


def _remove(docker, container_id: str) -> bool:
    try:
        docker.api.remove_container(container_id, force=True)
    except NotFound:
        return False
    return True
