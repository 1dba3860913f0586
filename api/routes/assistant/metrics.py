"""`GET /api/metrics` (seed 002): alerts, infrastructure counts and the assistant's figures, read by
api/logic/assistant/metrics.py."""

from __future__ import annotations

from api.errors import answers
from api.http import JsonRouter
from api.logic.assistant import metrics as logic
from api.routes.assistant.common import ANSWERS, AssistantCaller, Platform
from api.schemas.assistant.metrics import MetricsResponse

router = JsonRouter(prefix="/api/metrics", tags=["assistant"], responses=ANSWERS)


@router.get("", response_model=MetricsResponse, responses=answers(503))
async def get_metrics(_: AssistantCaller, platform: Platform) -> MetricsResponse:
    """Critical: jobs failed in the last 24 h, unhealthy external services, open
    `compensation_failed` alerts; warning: jobs held for a retry, overdue jobs; ok: jobs completed
    in 24 h, healthy external services. Infrastructure from every system (null with the reason
    when a part cannot be read; EC2 only while AWS is enabled)."""
    return await logic.metrics(platform)
