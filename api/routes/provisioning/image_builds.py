"""POST /api/v1/services/setup-image-build (seed 000 §1.8): starts SetupImageBuild."""

from __future__ import annotations

from fastapi import status

from api.auth import Writer
from api.deps import JobStarting
from api.errors import answers
from api.http import JsonRouter
from api.routes.provisioning.params import IdempotencyKey
from api.schemas.jobs import JobResponse
from api.schemas.provisioning.image_builds import ImageBuildRequest
from contracts.jobs import JobSubject
from contracts.provisioning.image_builds import (
    IMAGE_LABEL,
    REPOSITORY_LABEL,
    ImageBuildPlan,
    SetupImageBuildInput,
)
from contracts.provisioning.names import Operations, Workflows

router = JsonRouter(prefix="/api/v1/services", tags=["image builds"], responses=answers(503))


@router.post("/setup-image-build", status_code=status.HTTP_202_ACCEPTED, response_model=JobResponse)
async def setup_image_build(
    request: ImageBuildRequest,
    principal: Writer,
    platform: JobStarting,
    idempotency_key: IdempotencyKey = None,
) -> JobResponse:
    plan = ImageBuildPlan(**request.model_dump(), region=platform.settings.gcp_region)
    return await platform.jobs.start(
        Workflows.SETUP_IMAGE_BUILD,
        SetupImageBuildInput(plan=plan),
        operation=Operations.SETUP_IMAGE_BUILD,
        subject=JobSubject(kind="image_build", name=request.image_name),
        labels={IMAGE_LABEL: request.image_name, REPOSITORY_LABEL: request.github_repo},
        caller=principal,
        idempotency_key=idempotency_key,
        body=request.model_dump(mode="json"),
        estimated_time="3-5 minutes",
    )
