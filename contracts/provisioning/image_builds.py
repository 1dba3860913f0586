"""Inputs and results of SetupImageBuild and its steps (seed 000 §1.8): names and paths, no secrets."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from pydantic import BaseModel, Field, field_validator

# An image name is also the Artifact Registry repository id and part of the trigger name
# (`build-<image>`, at most 64), so: lowercase letters, digits and hyphens, at most 40.
IMAGE_NAME_PATTERN = r"^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$"
# `owner/repo` as GitHub spells them; a `..` or a shell metacharacter never matches.
GITHUB_REPO_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$"
# What a caller may send for it: `owner/repo`, or the repository's GitHub address
# (`https://github.com/owner/repo`, with or without `.git`); both are kept as `owner/repo`.
GITHUB_REPO_INPUT_PATTERN = (
    r"^(?:https://github\.com/)?[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}?"
    r"(?:\.git)?/?$"
)
_GITHUB_URL_PREFIX = "https://github.com/"
# A relative path inside the repository: no leading `/`, no `..` segment, no shell metacharacters.
REPO_PATH_PATTERN = r"^[A-Za-z0-9_.-][A-Za-z0-9_./-]{0,254}$"
BRANCH_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$"
# Marks what a job created outside the platform (AR label, v2 annotation, commit trailer).
JOB_LABEL = "job-id"
# Marks what the platform owns rather than one job: the Cloud Build connection of a GitHub owner
# and the link of a repository, shared by every image build of that owner or repository. Which job
# made one is kept for the record only (it gives that job no right to remove it).
PLATFORM_MARK = {"managed-by": "conneskills-platform"}
CREATED_BY_LABEL = "created-by-job"
# A trigger has tags, not labels: the platform tags its triggers with this and `job-<job id>`.
TRIGGER_TAG = "conneskills"
COMMIT_TRAILER = "Conneskills-Job-Id"
# The job labels of a setup (listings filter on them).
IMAGE_LABEL = "image"
REPOSITORY_LABEL = "repository"


# Git's own directory: a path in it is git's configuration or hooks, never a file of the repository.
GIT_DIR = ".git"


def check_relative_path(value: str) -> str:
    segments = value.split("/")
    if any(s in ("", "..") for s in segments) or value.startswith("-"):
        raise ValueError("must be a relative path inside the repository, without '..' or '//'")
    return value


def check_repository_file(value: str) -> str:
    """A file of the repository, in one spelling: relative, no `.`/`..`/empty segment (so two
    spellings of one file always compare equal), and not in git's own directory."""
    check_relative_path(value)
    segments = value.split("/")
    if "." in segments:
        raise ValueError("must be a relative path inside the repository, without '.' segments")
    # Any letter case: a case-insensitive file system takes `.GIT` for `.git`.
    if any(s.casefold() == GIT_DIR for s in segments):
        raise ValueError(f"must not be inside git's own {GIT_DIR} directory")
    return value


def normalize_github_repo(value: str) -> str:
    """`owner/repo` from `owner/repo`, `owner/repo.git` or `https://github.com/owner/repo[.git]`."""
    repo = value.removeprefix(_GITHUB_URL_PREFIX).removesuffix("/").removesuffix(".git")
    if not re.fullmatch(GITHUB_REPO_PATTERN, repo) or ".." in repo or repo.endswith("."):
        raise ValueError("must be owner/repo or https://github.com/owner/repo")
    if repo.split("/")[1].startswith("."):
        raise ValueError("must be owner/repo or https://github.com/owner/repo")
    return repo


def check_distinct_paths(dockerfile_path: str, cloudbuild_path: str) -> None:
    """The build config is written at its path: at the Dockerfile's path it would overwrite the
    very file it builds."""
    if dockerfile_path == cloudbuild_path:
        raise ValueError("cloudbuild_path must differ from dockerfile_path")


def artifact_registry_url(region: str, project: str, image_name: str) -> str:
    """`REGION-docker.pkg.dev/PROJECT/REPO`: where a setup's images are pushed (its repository is
    named after the image)."""
    return f"{region}-docker.pkg.dev/{project}/{image_name}"


def trigger_name(image_name: str) -> str:
    return f"build-{image_name}"


def is_platform_owned(marks: Mapping[str, str]) -> bool:
    """Whether a connection or link carries the platform's mark; one carrying a job's mark was made
    by the platform before connections and links were shared, and is the platform's too."""
    owned = all(marks.get(key) == value for key, value in PLATFORM_MARK.items())
    return owned or JOB_LABEL in marks


def is_platform_repository(labels: Mapping[str, str]) -> bool:
    """Whether an Artifact Registry repository was made by the platform: an image's repository is
    shared by every build of that image (its id is the image name), so any build of the image may
    adopt it. One made before repositories carried the platform's mark has the `job-id` label."""
    return is_platform_owned(labels)


def job_tag(job_id: str) -> str:
    return f"job-{job_id}"


def is_platform_trigger(tags: Iterable[str]) -> bool:
    """Whether a trigger was made by the platform (for an earlier build of its image, as its name
    says): it carries the platform's tag and the tag of the job that made it."""
    tags = list(tags)
    return TRIGGER_TAG in tags and any(tag.startswith(job_tag("")) for tag in tags)


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

    # As lenient as when jobs now in flight were started (their inputs must still decode); the
    # request is checked more strictly (api/schemas/provisioning/image_builds.py), and git's
    # provider refuses a path in `.git` whatever reaches it.
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
