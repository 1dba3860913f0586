"""Keyset cursors of the newest-first listings: the (time, id) of a page's last row, opaque to the
client, so the next page starts after it whatever was added meanwhile."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime

from api.errors import ApiError
from api.schemas.types import as_utc


def encode(at: datetime, row_id: uuid.UUID) -> str:
    raw = f"{as_utc(at).isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, row_id = raw.partition("|")
        return as_utc(datetime.fromisoformat(at)), uuid.UUID(row_id)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ApiError(
            400,
            "invalid cursor: pass back a next_cursor this API returned",
            details={"field": "cursor"},
        ) from None
