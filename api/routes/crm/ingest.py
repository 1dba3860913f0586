"""The public ingest webhook (seed 003): `POST /api/v1/ingest/{account_api_key}`.

No platform key: the account's key in the path identifies it. Single-step CRUD in one transaction,
so it answers synchronously (no job). Decisions:
- the body is any JSON object (strict parse: duplicate keys, NaN, non-UTF-8 refused), at most
  1 MiB (413), 500 top-level fields, names of 1-100 characters, nesting 32 deep; anything else is a
  400 and nothing is written;
- `Idempotency-Key`, or the header named by `CONNESKILLS_CRM_DELIVERY_ID_HEADER` (the CRM's
  delivery id), makes a retried delivery answer the first answer; the same key with another payload
  answers 409. Keys are per account and kept with the record (as long as the account);
- a per-account rate limit (`CONNESKILLS_CRM_INGEST_RATE_LIMIT`) answers 429 with `Retry-After`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Path, Request

from api.deps import DbDep, SettingsDep
from api.errors import answers
from api.http import JsonRouter
from api.logic.crm import ingest as logic
from api.logic.crm.rate_limit import limiter_for
from api.schemas.crm.ingest import IngestPayload, IngestResponse
from api.schemas.fields import HeaderKey

router = JsonRouter(prefix="/api/v1/ingest", tags=["crm ingest"], responses=answers(503))

# Any string: what is not a key of an active account answers the same 404 as an unknown key.
AccountKey = Annotated[str, Path(min_length=1, max_length=256)]


@router.post(
    "/{account_api_key}",
    response_model=IngestResponse,
    responses=answers(409, 429),
)
async def ingest(
    account_api_key: AccountKey,
    payload: IngestPayload,
    request: Request,
    db: DbDep,
    settings: SettingsDep,
    idempotency_key: Annotated[HeaderKey | None, Header(alias="Idempotency-Key")] = None,
) -> dict[str, Any]:
    """Stores the payload as a record and a lead of the account; answers after the commit."""
    await limiter_for(request, settings).check(account_api_key)
    if idempotency_key is None and settings.crm_delivery_id_header:
        idempotency_key = request.headers.get(settings.crm_delivery_id_header)
    return await logic.ingest(
        db,
        account_api_key,
        payload.root,
        source_ip=request.client.host if request.client else None,
        delivery_key=logic.check_delivery_key(idempotency_key),
    )
