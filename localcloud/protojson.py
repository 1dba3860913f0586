"""Proto3 JSON in and out, checked against the APIs' own message descriptors.

Request bodies are parsed into the real message type, so unknown fields and bad values are rejected
as the real APIs reject them, and int or string enums both work. Resources are stored in canonical
JSON (enum names); responses use enum numbers when the client asked with `enum-encoding=int`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request
from google.protobuf import json_format
from google.protobuf.message import Message

from localcloud.errors import invalid


def message_class(cls: Any) -> type[Message]:
    """Accept a protobuf class or a proto-plus wrapper (e.g. `run_v2.Service`)."""
    return cls.pb() if hasattr(cls, "pb") else cls


def parse(data: Any, cls: Any, where: str = "") -> dict[str, Any]:
    """Validate JSON against a message type; return it in canonical form (enum names)."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise invalid(f"Invalid JSON payload received. Expected an object{_at(where)}.")
    message = message_class(cls)()
    try:
        json_format.ParseDict(data, message)
    except json_format.ParseError as exc:
        unknown = re.search(r'has no field named "([^"]+)"', str(exc))
        if unknown:
            # The wording Google's front ends use for unknown fields.
            raise invalid(
                f'Invalid JSON payload received. Unknown name "{unknown.group(1)}"'
                f"{_at(where)}: Cannot find field."
            ) from None
        raise invalid(f"Invalid JSON payload received{_at(where)}. {exc}") from None
    return json_format.MessageToDict(message)


def render(data: dict[str, Any], cls: Any, int_enums: bool) -> dict[str, Any]:
    """A stored resource as the client asked for it."""
    if not int_enums:
        return data
    message = message_class(cls)()
    json_format.ParseDict(data, message, ignore_unknown_fields=True)
    return json_format.MessageToDict(message, use_integers_for_enums=True)


def wants_int_enums(request: Request) -> bool:
    return "enum-encoding=int" in request.query_params.get("$alt", "")


async def body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise invalid("Invalid JSON payload received. Unexpected token.") from None


def _at(where: str) -> str:
    return f" at '{where}'" if where else ""
