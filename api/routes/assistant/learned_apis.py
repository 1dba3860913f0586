"""Learned APIs (seed 002): `POST /api/learned-apis` starts a LearnApi job that turns an OpenAPI or
Swagger document into tools; `GET /api/learned-apis` lists the caller's with endpoint counts."""

from __future__ import annotations

from fastapi import status

from api.deps import DbDep
from api.errors import answers
from api.http import JsonRouter
from api.logic.assistant import integrations as logic
from api.routes.assistant.common import ANSWERS, AssistantCaller, Platform
from api.schemas.assistant.integrations import LearnApiAccepted, LearnApiRequest, LearnedApiList

router = JsonRouter(prefix="/api/learned-apis", tags=["assistant"], responses=ANSWERS)


@router.get("", response_model=LearnedApiList)
async def list_learned_apis(caller: AssistantCaller, db: DbDep) -> LearnedApiList:
    """The caller's learned APIs, the latest first, each with its number of endpoints (tools)."""
    return await logic.learned_apis(db, caller.owner)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=LearnApiAccepted,
    responses=answers(413, 415, 503),
)
async def learn_api(
    body: LearnApiRequest, caller: AssistantCaller, platform: Platform
) -> LearnApiAccepted:
    """Starts learning the API (a `learn_api` job, followed at `/api/v1/jobs/{job_id}`): its
    operations become tools the assistant may call. 400 for a source the outbound guard refuses
    (a scheme other than http(s), an address that is not public); 403 for credentials without
    the `secrets` scope."""
    return await logic.learn(platform, caller, body)
