"""What the assistant's routers share: the caller (a console token or an API key with the
`assistant` scope), counted against the rate limit with the seed's `X-RateLimit-*` headers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from api.deps import PlatformState
from api.errors import answers
from api.logic.assistant.auth import Caller, caller_of
from api.logic.assistant.rate_limit import limiter_for

# Every assistant route answers these besides its own.
ANSWERS = answers(400, 401, 403, 429)


async def _caller(request: Request, response: Response) -> Caller:
    platform = request.app.state.platform
    caller = await caller_of(request, platform.db, platform.settings)
    headers = await limiter_for(request, platform.settings).hit(caller.owner)
    response.headers.update(headers)
    return caller


# Declares the API-key schemes on the route (api/http.py); a console token is a bearer too.
_caller.needs_api_key = True  # type: ignore[attr-defined]

AssistantCaller = Annotated[Caller, Depends(_caller)]


async def _platform(request: Request) -> PlatformState:
    return request.app.state.platform


# The platform (database, Temporal client, job engine) for the route that starts a turn. Not the
# API's JobStarting: a turn takes no X-Job-On-Failure (a failed turn is answered, not held).
Platform = Annotated[PlatformState, Depends(_platform)]
