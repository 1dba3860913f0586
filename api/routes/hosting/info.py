"""`GET /`, `GET /heartbeat` (open), `GET /protected` (any valid key) and `GET /service-types`
(`hosting` scope): seed 001's general endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from api.auth import HostingScope, Principal, current_principal
from api.errors import answers
from api.http import JsonRouter
from api.schemas.hosting.info import Heartbeat, Protected, Welcome
from contracts.hosting.services import SERVICE_TYPES
from store.models import utcnow

router = JsonRouter(tags=["hosting"])


@router.get("/", response_model=Welcome)
async def welcome() -> Welcome:
    return Welcome(message="ConneSkills hosting API", docs="/docs")


@router.get("/heartbeat", response_model=Heartbeat)
async def heartbeat() -> Heartbeat:
    """The API answers (`/health` also checks Temporal and the database)."""
    return Heartbeat(status="ok", time=utcnow())


@router.get("/protected", response_model=Protected, responses=answers(401))
async def protected(principal: Annotated[Principal, Depends(current_principal)]) -> Protected:
    """Tests a key: any valid key passes, whatever its scopes."""
    return Protected(
        message="the API key is valid", key_name=principal.name, scopes=sorted(principal.scopes)
    )


@router.get("/service-types", response_model=list[str], responses=answers(401, 403))
async def service_types(_: HostingScope) -> list[str]:
    """What a Docker service can be made of (`service_types`, `primary_app_type`)."""
    return list(SERVICE_TYPES)
