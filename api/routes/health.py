"""GET /health (no auth): reachability of the API, Temporal and the platform's database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import Response
from sqlalchemy import text

from api.deps import DbDep, SettingsDep, TemporalDep
from api.http import JsonRouter

router = JsonRouter(tags=["health"])


async def _check(coro) -> dict:
    try:
        await asyncio.wait_for(coro, timeout=3)
        return {"status": "ok"}
    except Exception as error:  # health reports any failure instead of raising it
        return {"status": "unreachable", "error": type(error).__name__}


async def _database(db) -> None:
    async with db.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


@router.get(
    "/health",
    responses={503: {"description": "Degraded: the same report, naming what is unreachable."}},
)
async def health(
    response: Response, settings: SettingsDep, db: DbDep, temporal: TemporalDep
) -> dict:
    temporal_check = await _check(
        temporal.service_client.check_health(timeout=timedelta(seconds=2))
    )
    database_check = await _check(_database(db))
    healthy = temporal_check["status"] == "ok" and database_check["status"] == "ok"
    response.status_code = 200 if healthy else 503
    return {
        "status": "ok" if healthy else "degraded",
        "api": {"status": "ok"},
        "temporal": {
            **temporal_check,
            "address": settings.temporal_address,
            "ui": settings.temporal_ui_url,
        },
        "database": {**database_check, "backend": db.engine.url.get_backend_name()},
    }
