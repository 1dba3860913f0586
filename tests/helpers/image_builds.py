"""What the image-build tests share: a repository in the local cloud's git hosting, a request, and
starting a setup through the API."""

from __future__ import annotations

import uuid

DOCKERFILE = 'FROM python:3.12-slim\nCOPY . /app\nCMD ["python", "/app/main.py"]\n'


def new_repo(localcloud, files: dict[str, str]) -> tuple[str, str]:
    owner, name = f"o{uuid.uuid4().hex[:8]}", "app"
    localcloud.create_git_repo(owner, name, files)
    return owner, name


def body(owner: str, name: str, image: str, **extra) -> dict:
    return {
        "image_name": image,
        "github_repo": f"{owner}/{name}",
        "dockerfile_path": "docker/Dockerfile",
        "cloudbuild_path": "ci/cloudbuild.yaml",
        **extra,
    }


async def setup(api, request: dict) -> dict:
    response = await api.post("/api/v1/services/setup-image-build", json=request)
    assert response.status_code == 202, response.text
    return response.json()


def image_name() -> str:
    return f"img-{uuid.uuid4().hex[:8]}"
