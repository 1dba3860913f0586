"""What the CRM admin routers share: the scope and the paging parameters."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path, Query

from api.auth import Principal, require

# The `crm` scope (or admin, which implies it). Sent as `Authorization: Bearer`, as the seed does,
# or `X-API-Key`.
CrmAdmin = Annotated[Principal, Depends(require("crm"))]

# The seed sets no maximum page; this one keeps the offset a database can take.
MAX_PAGE = 1_000_000
Page = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page, from 1.")]
AccountId = Annotated[uuid.UUID, Path(description="The account's id (a UUID).")]


# The seed's bounds: accounts, leads and records 1-100 (default 20), fields 1-200 (default 50).
PageSize = Annotated[int, Query(ge=1, le=100, description="Items per page (1-100).")]
FieldPageSize = Annotated[int, Query(ge=1, le=200, description="Items per page (1-200).")]
