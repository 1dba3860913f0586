"""List pagination: `pageSize` / `pageToken` in, one page plus an opaque `nextPageToken` out."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any, TypeVar

from fastapi import Request

from localcloud.errors import invalid

T = TypeVar("T")


def page(
    items: Sequence[T], page_size: Any, page_token: Any, default_size: int, max_size: int
) -> tuple[Sequence[T], str]:
    size = _size(page_size, default_size, max_size)
    start = _offset(page_token)
    end = start + size
    token = _token(end) if end < len(items) else ""
    return items[start:end], token


def query_params(request: Request) -> tuple[str | None, str | None]:
    return request.query_params.get("pageSize"), request.query_params.get("pageToken")


def _size(value: Any, default: int, maximum: int) -> int:
    if value in (None, "", 0, "0"):
        return default
    try:
        size = int(value)
    except (TypeError, ValueError):
        raise invalid(f"Invalid value for page_size: {value!r}") from None
    if size < 0:
        raise invalid("page_size must not be negative")
    return min(size, maximum)


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def _offset(token: Any) -> int:
    if not token:
        return 0
    try:
        padded = str(token) + "=" * (-len(str(token)) % 4)
        offset = json.loads(base64.urlsafe_b64decode(padded))["o"]
        if not isinstance(offset, int) or offset < 0:
            raise ValueError
        return offset
    except (ValueError, KeyError, TypeError):
        raise invalid("Invalid page token.") from None


def list_body(
    field: str, items: Sequence[Any], token: str, total: int | None = None
) -> dict[str, Any]:
    """A list response as Google's JSON writes it: empty fields (no items, no next page) omitted."""
    body: dict[str, Any] = {}
    if items:
        body[field] = list(items)
    if token:
        body["nextPageToken"] = token
    if total:
        body["totalSize"] = total
    return body
