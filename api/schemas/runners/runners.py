"""Request and response bodies of `/api/v1/runners` (seed 004's RunnerRequest, RunnerResponse,
RunnerStatus), as the platform answers them; the gateway wraps them in the seed's envelope."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from api.schemas.base import RequestModel
from api.schemas.conditions import DriftField, ResourceCondition
from api.schemas.types import UtcDateTime

# GitHub's own rules: an owner (user or org) is 1–39 alphanumerics or single hyphens, a repository
# name 1–100 of [A-Za-z0-9._-].
OWNER = r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}"
REPO = r"[A-Za-z0-9._-]{1,100}"
REPO_SCOPE = re.compile(rf"^{OWNER}/{REPO}$")
ORG_SCOPE = re.compile(rf"^{OWNER}$")
RUNNER_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$"
RUNNER_ID = r"^runner-[a-z0-9]{1,40}$"

Label = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[^\s,]+$")]


class RunnerRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "scope": "repo",
                    "scope_name": "conneskills/platform",
                    "labels": ["linux", "x64"],
                    "count": 1,
                }
            ]
        },
    )

    scope: Literal["repo", "org"] = Field(description="`repo` or `org`")
    scope_name: str = Field(
        min_length=1, max_length=140, description="`owner/repo` for scope repo, else the org"
    )
    runner_name: str | None = Field(
        None,
        pattern=RUNNER_NAME,
        description="Base of the runners' names; with count > 1 each gets `-1`, `-2`, …",
    )
    runner_group: str | None = Field(None, min_length=1, max_length=100)
    labels: list[Label] | None = Field(None, max_length=20)
    count: int = Field(1, ge=1, le=10)

    @model_validator(mode="after")
    def _scope_name_fits_scope(self) -> RunnerRequest:
        if self.scope == "repo" and not REPO_SCOPE.match(self.scope_name):
            raise ValueError("for scope='repo', scope_name must be owner/repo")
        if self.scope == "org" and not ORG_SCOPE.match(self.scope_name):
            raise ValueError("for scope='org', scope_name must be an organization name")
        if self.scope == "repo" and self.runner_group not in (None, "default", "Default"):
            raise ValueError("repository runners belong to the Default runner group")
        return self


class RunnerResponse(BaseModel):
    runner_id: str
    status: str
    message: str
    runner_name: str
    job_url: str


class RunnersCreated(BaseModel):
    runners: list[RunnerResponse]
    message: str


class RunnerStatus(BaseModel):
    runner_id: str
    status: str = Field(
        description="creating | running | removing | completed | failed | cancelled; `running` "
        "only while its container really runs (else `exited`, `paused` or `missing`)"
    )
    container_id: str | None = None
    image: str | None = None
    created: UtcDateTime | None = None
    labels: dict[str, Any] = Field(default_factory=dict)
    runner_name: str | None = None
    phase: str | None = None
    github_runner_id: int | None = None
    container_state: str | None = Field(
        None, description="The container's own state (created, running, exited, …), if it exists"
    )
    error: str | None = None
    conditions: list[ResourceCondition] = Field(
        default_factory=list,
        description="As the drift observer last saw the runner's container (`Ready`, `Synced`, "
        "`Drifted`); empty until it has, and once the runner is destroyed.",
    )
    drift: list[DriftField] = Field(
        default_factory=list,
        description="The container gone (`container`), not running (`state`: `exited`, "
        "`paused`), its `image`, `name` or an ownership label (`labels.<key>`) changed outside "
        "the platform.",
    )
    observed_at: UtcDateTime | None = None


class RunnerDestroyed(BaseModel):
    runner_id: str
    destroyed: bool
    message: str


class CleanupReport(BaseModel):
    job_id: str
    completed: bool
    cleaned_count: int
    cleaned_runners: list[str]
