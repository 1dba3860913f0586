"""`GET /api/config` and `PUT /api/config` (a partial merge; an unknown provider or model is 400)."""

from __future__ import annotations

from api.deps import DbDep, SettingsDep
from api.errors import answers
from api.http import JsonRouter
from api.logic.assistant import config as logic
from api.routes.assistant.common import ANSWERS, AssistantCaller
from api.schemas.assistant.config import AssistantConfig, ConfigUpdate

router = JsonRouter(prefix="/api/config", tags=["assistant"], responses=ANSWERS)


@router.get("", response_model=AssistantConfig)
async def get_config(_: AssistantCaller, db: DbDep) -> AssistantConfig:
    return await logic.current(db)


@router.put("", response_model=AssistantConfig, responses=answers(413, 415))
async def put_config(
    body: ConfigUpdate, _: AssistantCaller, db: DbDep, settings: SettingsDep
) -> AssistantConfig:
    return await logic.update(db, settings, body)
