"""Checks on a webhook payload before anything is written, and the type a new field is given."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from api.errors import ApiError

MAX_DEPTH = 32
MAX_FIELDS = 500
MAX_FIELD_NAME = 100

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# An optional +, then digits with the usual separators; 7 to 15 digits (E.164's range).
_PHONE = re.compile(r"^\+?[\d\s().-]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _refuse(message: str, **details: Any) -> ApiError:
    return ApiError(400, f"invalid payload: {message}", code="validation_error", details=details)


def _encodable(text: str) -> bool:
    # json.loads lets lone surrogates through ("\ud800"); no database can store them.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check(payload: dict[str, Any]) -> None:
    """Refuses (400) a payload the platform will not store: too many fields, bad field names,
    nesting deeper than MAX_DEPTH, text that is not valid Unicode. Iterative, so depth costs no
    recursion."""
    if len(payload) > MAX_FIELDS:
        raise _refuse(f"more than {MAX_FIELDS} fields", limit=MAX_FIELDS, count=len(payload))
    for name in payload:
        if not name or len(name) > MAX_FIELD_NAME or _CONTROL.search(name):
            raise _refuse(
                f"a field name must have 1 to {MAX_FIELD_NAME} characters and no control "
                "characters",
                field_index=list(payload).index(name),
            )
    stack: list[tuple[Any, int]] = [(payload, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = [*value.keys(), *value.values()]
        elif isinstance(value, list):
            children = value
        elif isinstance(value, str):
            if not _encodable(value):
                raise _refuse("text that is not valid Unicode (a lone surrogate)")
            continue
        else:
            continue
        if depth > MAX_DEPTH:
            raise _refuse(f"nested deeper than {MAX_DEPTH} levels", limit=MAX_DEPTH)
        stack.extend((child, depth + 1) for child in children)


def infer_type(value: Any) -> str:
    """The `tipo_dato` of a field first seen with this value."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if not isinstance(value, str):
        return "string"
    text = value.strip()
    if _EMAIL.match(text):
        return "email"
    if _PHONE.match(text) and 7 <= sum(c.isdigit() for c in text) <= 15 and not text.isdigit():
        return "phone"
    if text.startswith("+") and text[1:].isdigit() and 7 <= len(text) - 1 <= 15:
        return "phone"
    if len(text) >= 10 and text[:4].isdigit() and text[4] == "-":
        try:
            datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return "datetime"
    return "string"
