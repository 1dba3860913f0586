"""Types the API's schemas share: times in responses, and times in requests."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator


def as_utc(value: datetime) -> datetime:
    """Every time the platform stores is UTC; SQLite hands it back naive, so naive means UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# A time in a response: always UTC, serialised as ISO 8601 with `Z` (`2025-01-31T12:00:00Z`).
UtcDateTime = Annotated[datetime, AfterValidator(as_utc)]

# RFC 3339, the `date-time` format the OpenAPI document publishes: a date, `T`, a time and a UTC
# offset. Pydantic alone would also take a number (`0.5`, read as seconds since 1970) or a bare date.
_RFC_3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:[Zz]|[+-]\d{2}:\d{2})"
)


def rfc_3339(value: Any) -> Any:
    if isinstance(value, str) and not _RFC_3339.fullmatch(value):
        raise ValueError(
            "must be an RFC 3339 date-time with a UTC offset, such as 2025-01-31T12:00:00Z"
        )
    if isinstance(value, int | float):
        raise ValueError("must be an RFC 3339 date-time string, not a number")
    return value


# A time a caller sends (a query parameter, a body field): RFC 3339 only, held as UTC.
RequestDateTime = Annotated[datetime, BeforeValidator(rfc_3339), AfterValidator(as_utc)]
