"""Types every response schema shares."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def as_utc(value: datetime) -> datetime:
    """Every time the platform stores is UTC; SQLite hands it back naive, so naive means UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# A time in a response: always UTC, serialised as ISO 8601 with `Z` (`2025-01-31T12:00:00Z`).
UtcDateTime = Annotated[datetime, AfterValidator(as_utc)]
