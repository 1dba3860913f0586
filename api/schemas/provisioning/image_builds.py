"""Request shape of seed 000 §1.8 (set up an image build pipeline), checked before any job starts."""

from __future__ import annotations

from pydantic import ConfigDict, Field, field_validator, model_validator

from api.schemas.base import RequestModel
from api.schemas.jobs import JobResponse
from contracts.provisioning.image_builds import (
    BRANCH_PATTERN,
    GITHUB_REPO_INPUT_PATTERN,
    IMAGE_NAME_PATTERN,
    REPO_PATH_PATTERN,
    check_branch,
    check_distinct_paths,
    check_repository_file,
    normalize_github_repo,
)


class ImageBuildRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "image_name": "hello-image",
                    "github_repo": "conneskills/hello-image",
                    "dockerfile_path": "Dockerfile",
                    "cloudbuild_path": "cloudbuild.yaml",
                    "branch": "main",
                }
            ]
        },
    )

    image_name: str = Field(
        pattern=IMAGE_NAME_PATTERN,
        description="Image and Artifact Registry repository name: lowercase letters, digits and "
        "hyphens, starting with a letter, at most 40 characters.",
    )
    github_repo: str = Field(
        pattern=GITHUB_REPO_INPUT_PATTERN,
        max_length=170,
        description="`owner/repo`, or the repository's address `https://github.com/owner/repo` "
        "(with or without `.git`); kept as `owner/repo`.",
    )
    dockerfile_path: str = Field(
        pattern=REPO_PATH_PATTERN,
        description="Relative path of the Dockerfile in the repository (not inside `.git`).",
    )
    cloudbuild_path: str = Field(
        pattern=REPO_PATH_PATTERN,
        description="Relative path where the generated Cloud Build config is committed (not "
        "inside `.git`, and not the Dockerfile's path).",
    )
    branch: str = Field(default="main", pattern=BRANCH_PATTERN)

    _paths = field_validator("dockerfile_path", "cloudbuild_path")(check_repository_file)
    _branch = field_validator("branch")(check_branch)
    _repo = field_validator("github_repo")(normalize_github_repo)

    @model_validator(mode="after")
    def _distinct_paths(self) -> ImageBuildRequest:
        check_distinct_paths(self.dockerfile_path, self.cloudbuild_path)
        return self


class ImageBuildJobResponse(JobResponse):
    """The started job, and where its pipeline puts things: both names follow from the request,
    so they are known before the job runs."""

    artifact_registry_url: str = Field(
        description="`REGION-docker.pkg.dev/PROJECT/<image_name>`: the Artifact Registry "
        "repository the builds push to."
    )
    image: str = Field(description="The image the builds push: `<artifact_registry_url>/<image>`.")
    trigger_name: str = Field(description="The Cloud Build trigger: `build-<image_name>`.")
