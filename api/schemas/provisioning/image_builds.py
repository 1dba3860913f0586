"""Request shape of seed 000 §1.8 (set up an image build pipeline), checked before any job starts."""

from __future__ import annotations

from pydantic import ConfigDict, Field, field_validator

from api.schemas.base import RequestModel
from contracts.provisioning.image_builds import (
    BRANCH_PATTERN,
    GITHUB_REPO_PATTERN,
    IMAGE_NAME_PATTERN,
    REPO_PATH_PATTERN,
    check_branch,
    check_relative_path,
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
        pattern=GITHUB_REPO_PATTERN, max_length=140, description="`owner/repo` (not a URL)."
    )
    dockerfile_path: str = Field(
        pattern=REPO_PATH_PATTERN, description="Relative path of the Dockerfile in the repository."
    )
    cloudbuild_path: str = Field(
        pattern=REPO_PATH_PATTERN,
        description="Relative path where the generated Cloud Build config is committed.",
    )
    branch: str = Field(default="main", pattern=BRANCH_PATTERN)

    _paths = field_validator("dockerfile_path", "cloudbuild_path")(check_relative_path)
    _branch = field_validator("branch")(check_branch)

    @field_validator("github_repo")
    @classmethod
    def _repo(cls, value: str) -> str:
        if ".." in value or value.split("/")[1].startswith("."):
            raise ValueError("must be owner/repo")
        return value
