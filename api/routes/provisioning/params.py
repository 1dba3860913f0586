"""Path, query and header parameters the provisioning routers share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Path, Query

from api.schemas.provisioning.services import REGION_PATTERN
from contracts.provisioning.services import PLAN_HASH_PATTERN, SERVICE_NAME_PATTERN

ServiceNamePath = Annotated[str, Path(pattern=SERVICE_NAME_PATTERN, max_length=49)]
RegionQuery = Annotated[str | None, Query(pattern=REGION_PATTERN)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Repeat a request with the same key to get the same job back.",
    ),
]
DryRunQuery = Annotated[
    bool,
    Query(description="Answer 200 with the plan (what would change) and start nothing."),
]
PlanHashQuery = Annotated[
    str | None,
    Query(
        pattern=PLAN_HASH_PATTERN,
        description="Apply only if the service still matches this plan (from a dry run); the job "
        "fails with `stale plan` otherwise. Also accepted as `plan_hash` in the body.",
    ),
]
