"""Inputs and results of the runners system's workflows and activities (seed 004). The JIT config,
a credential, never appears here: the activity that gets it from GitHub hands it to Docker itself."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

# Labels the platform puts on every runner container: what it owns, and which job owns each.
MANAGED_BY_LABEL = "conneskills.managed-by"
MANAGED_BY_VALUE = "conneskills-runners"
JOB_LABEL = "conneskills.job-id"
GITHUB_RUNNER_LABEL = "conneskills.github-runner-id"
SCOPE_LABEL = "conneskills.scope"
SCOPE_NAME_LABEL = "conneskills.scope-name"
# A custom label on every GitHub runner the platform registers, so cleanup can tell its own
# runners from a team's hand-registered ones (which it never touches).
PLATFORM_RUNNER_LABEL = "conneskills-ephemeral"

Scope = Literal["repo", "org"]


class RunnerTarget(BaseModel):
    """Where a runner registers: `repo` + `owner/repo`, or `org` + the organization."""

    scope: Scope
    scope_name: str


class EphemeralRunnerInput(BaseModel):
    target: RunnerTarget
    runner_name: str
    labels: list[str] = Field(default_factory=list)
    runner_group: str | None = None
    image: str
    command: list[str] = Field(default_factory=list)
    network: str | None = None
    max_lifetime_seconds: float
    poll_seconds: float = 1.0


class StartRunnerInput(BaseModel):
    job_id: str
    runner: EphemeralRunnerInput


class StartedRunner(BaseModel):
    container_id: str
    github_runner_id: int
    created: str | None = None


class AwaitExitInput(BaseModel):
    container_id: str
    deadline_epoch: float
    poll_seconds: float = 1.0


class RunnerExit(BaseModel):
    outcome: Literal["exited", "gone", "lifetime_exceeded"]
    exit_code: int | None = None


class ContainerRef(BaseModel):
    container_id: str


class DeregisterInput(BaseModel):
    target: RunnerTarget
    github_runner_id: int


class TeardownInput(BaseModel):
    """Everything the job may have left: its containers (found by the job label) and the GitHub
    registration it made (its id, known once the start step returned, else read from the
    container's label)."""

    job_id: str
    target: RunnerTarget
    github_runner_id: int | None = None


class TeardownResult(BaseModel):
    containers_removed: list[str] = Field(default_factory=list)
    registration_removed: bool = False


class CleanupInput(BaseModel):
    # Scopes to look for offline platform runners in, besides those of recent runner jobs.
    scopes: list[RunnerTarget] = Field(default_factory=list)


class CleanupResult(BaseModel):
    containers: list[str] = Field(default_factory=list)
    github_runners: list[str] = Field(default_factory=list)

    @property
    def cleaned(self) -> list[str]:
        return [*self.containers, *self.github_runners]
