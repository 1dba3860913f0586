"""POST /api/v1/services/setup-image-build (seed 000 §1.8): starts SetupImageBuild."""

from __future__ import annotations

from fastapi import status

from api.auth import Writer
from api.deps import JobStarting
from api.errors import answers
from api.http import JsonRouter
from api.routes.provisioning.params import IdempotencyKey
from api.schemas.provisioning.image_builds import ImageBuildJobResponse, ImageBuildRequest
from contracts.jobs import JobSubject
from contracts.provisioning.image_builds import (
    IMAGE_LABEL,
    REPOSITORY_LABEL,
    ImageBuildPlan,
    SetupImageBuildInput,
    artifact_registry_url,
    trigger_name,
)
from contracts.provisioning.names import Operations, Workflows

router = JsonRouter(prefix="/api/v1/services", tags=["image builds"], responses=answers(503))


@router.post(
    "/setup-image-build",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ImageBuildJobResponse,
)
async def setup_image_build(
    request: ImageBuildRequest,
    principal: Writer,
    platform: JobStarting,
    idempotency_key: IdempotencyKey = None,
) -> ImageBuildJobResponse:
    settings = platform.settings
    plan = ImageBuildPlan(**request.model_dump(), region=settings.gcp_region)
    job = await platform.jobs.start(
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
    registry = artifact_registry_url(settings.gcp_region, settings.gcp_project, plan.image_name)
    return ImageBuildJobResponse(
        **job.model_dump(),
        artifact_registry_url=registry,
        image=f"{registry}/{plan.image_name}",
        trigger_name=trigger_name(plan.image_name),
    )
