"""Inputs and results of SetupImageBuild and its steps (seed 000 §1.8): names and paths, no secrets."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

# An image name is also the Artifact Registry repository id and part of the trigger name
# (`build-<image>`, at most 64), so: lowercase letters, digits and hyphens, at most 40.
IMAGE_NAME_PATTERN = r"^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$"
# `owner/repo` as GitHub spells them; a URL, a `..` or a shell metacharacter never matches.
GITHUB_REPO_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$"
# A relative path inside the repository: no leading `/`, no `..` segment, no shell metacharacters.
REPO_PATH_PATTERN = r"^[A-Za-z0-9_.-][A-Za-z0-9_./-]{0,254}$"
BRANCH_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$"
# Marks what a job created outside the platform (AR label, v2 annotation, commit trailer).
JOB_LABEL = "job-id"
COMMIT_TRAILER = "Conneskills-Job-Id"
# The job labels of a setup (listings filter on them).
IMAGE_LABEL = "image"
REPOSITORY_LABEL = "repository"


def check_relative_path(value: str) -> str:
    segments = value.split("/")
    if any(s in ("", "..") for s in segments) or value.startswith("-"):
        raise ValueError("must be a relative path inside the repository, without '..' or '//'")
    return value


def check_branch(value: str) -> str:
    if ".." in value or value.endswith((".lock", "/", ".")) or "//" in value:
        raise ValueError("is not a valid branch name")
    return value


class ImageBuildPlan(BaseModel):
    """What every step of one setup needs; the names of what it creates are derived from it."""

    image_name: str = Field(pattern=IMAGE_NAME_PATTERN)
    github_repo: str = Field(pattern=GITHUB_REPO_PATTERN)
    dockerfile_path: str = Field(pattern=REPO_PATH_PATTERN)
    cloudbuild_path: str = Field(pattern=REPO_PATH_PATTERN)
    branch: str = Field(default="main", pattern=BRANCH_PATTERN)
    region: str

    _paths = field_validator("dockerfile_path", "cloudbuild_path")(check_relative_path)
    _branch = field_validator("branch")(check_branch)

    @field_validator("github_repo")
    @classmethod
    def _repo(cls, value: str) -> str:
        if ".." in value or value.endswith(".") or value.split("/")[1].startswith("."):
            raise ValueError("must be owner/repo")
        return value

    @property
    def owner(self) -> str:
        return self.github_repo.split("/", 1)[0]

    @property
    def repo(self) -> str:
        return self.github_repo.split("/", 1)[1].removesuffix(".git")


class SetupImageBuildInput(BaseModel):
    plan: ImageBuildPlan


class CheckoutResult(BaseModel):
    commit_sha: str


class RegistryResult(BaseModel):
    repository: str
    url: str
    image: str
    created: bool


class ConnectionResult(BaseModel):
    connection: str
    repository: str
    created_connection: bool
    created_repository: bool


class BuildConfigResult(BaseModel):
    committed: bool
    commit_sha: str


class TriggerInput(BaseModel):
    plan: ImageBuildPlan
    linked_repository: str


class TriggerResult(BaseModel):
    name: str
    id: str
    resource_name: str
    created: bool


class FirstBuildInput(BaseModel):
    plan: ImageBuildPlan
    trigger_id: str


class FirstBuildResult(BaseModel):
    build_id: str | None = None
    status: str
    detail: str | None = None
    log_url: str | None = None
