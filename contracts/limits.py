"""Size bounds for data that crosses the Temporal boundary.

Temporal refuses a payload over 2 MB (its blob size limit) and a gRPC message over 4 MB, and the
refusal surfaces only when the job starts. Every field of a workflow input is bounded so that the
largest valid input stays a fraction of that (see the README, "Auth and errors").
"""

from __future__ import annotations

import json
from typing import Any

# Bytes of JSON one free-form field (a dict of env vars, metadata, operation params) may take.
MAX_FIELD_JSON_BYTES = 256 * 1024


def json_size(value: Any) -> int:
    """Bytes `value` takes as JSON, escapes included, as it is serialized into a payload."""
    return len(json.dumps(value, ensure_ascii=False, default=str).encode())


def check_json_size(value: Any) -> Any:
    """A field validator: one argument, so pydantic passes no ValidationInfo."""
    size = json_size(value)
    if size > MAX_FIELD_JSON_BYTES:
        raise ValueError(f"takes {size} bytes as JSON; the limit is {MAX_FIELD_JSON_BYTES}")
    return value
