"""The audit trail (admin scope): every mutating API call made with a platform API key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from api.auth import Admin
from api.deps import DbDep
from api.errors import answers
from api.http import JsonRouter
from api.logic.oversight import reads
from api.schemas.oversight.audit import AuditPage
from api.schemas.types import RequestDateTime

router = JsonRouter(prefix="/api/v1/audit", tags=["audit"], responses=answers(401, 403))


@router.get("", response_model=AuditPage, responses=answers(400))
async def list_audit_events(
    _: Admin,
    db: DbDep,
    actor: Annotated[str | None, Query(max_length=128, description="The API key's name.")] = None,
    resource: Annotated[
        str | None,
        Query(
            max_length=300,
            description="A resource (`service:hello`), or a prefix of one ending before a `/` "
            "or `:` (`jobs` matches every `jobs/<id>`).",
        ),
    ] = None,
    since: Annotated[
        RequestDateTime | None,
        Query(alias="from", description="Calls at or after this time (RFC 3339)."),
    ] = None,
    until: Annotated[
        RequestDateTime | None, Query(alias="to", description="Calls before this time (RFC 3339).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=200, description="The `next_cursor` of the previous page.")
    ] = None,
) -> AuditPage:
    """Newest first."""
    return await reads.audit_page(
        db,
        actor=actor,
        resource=resource,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )
