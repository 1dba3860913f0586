"""`POST /api/auth/login`: a console user's name and password for a bearer token (seed 002)."""

from __future__ import annotations

from fastapi import Request, Response

from api.deps import DbDep, SettingsDep
from api.errors import answers
from api.http import JsonRouter
from api.logic.assistant import auth as logic
from api.logic.assistant.rate_limit import limiter_for
from api.schemas.assistant.auth import LoginRequest, LoginResponse

router = JsonRouter(prefix="/api/auth", tags=["assistant"])


@router.post("/login", response_model=LoginResponse, responses=answers(400, 401, 413, 415, 429))
async def login(
    body: LoginRequest, request: Request, response: Response, db: DbDep, settings: SettingsDep
) -> LoginResponse:
    """401 for a wrong name or password alike; attempts on one name count against the rate
    limit, so guessing a password is as slow as the limit."""
    response.headers.update(await limiter_for(request, settings).hit(f"login:{body.username}"))
    token = await logic.login(db, settings, body.username, body.password)
    return LoginResponse(access_token=token, expires_in=settings.assistant_token_ttl_seconds)
