"""Conversion of driver values (datetimes, decimals, bytes, records) into JSON-serialisable ones."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import ipaddress
import uuid
from collections.abc import Mapping
from typing import Any


def to_jsonable(value: Any) -> Any:
    """Primitives pass through; everything else becomes a string, list or dict of primitives.

    Decimals become strings so a NUMERIC(38, 10) keeps every digit; bytes become base64 since
    they need not be text; durations become seconds.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        # NaN/Infinity are not JSON.
        return (
            value if value == value and value not in (float("inf"), float("-inf")) else str(value)
        )
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, uuid.UUID | ipaddress._BaseAddress | ipaddress._BaseNetwork):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    return str(value)
