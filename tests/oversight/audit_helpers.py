"""Reading the audit trail in tests: rows are written off the request path, so reads poll."""

from __future__ import annotations

import asyncio
import time

import httpx


async def audit_rows(
    api: httpx.AsyncClient, *, expect: int = 1, seconds: float = 10, **filters
) -> list[dict]:
    """GET /api/v1/audit with `filters` until it lists at least `expect` rows."""
    deadline = time.monotonic() + seconds
    params = {k if k != "since" else "from": v for k, v in filters.items() if v is not None}
    while True:
        response = await api.get("/api/v1/audit", params=params)
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        if len(items) >= expect or time.monotonic() > deadline:
            return items
        await asyncio.sleep(0.1)


async def row_for(api: httpx.AsyncClient, request_id: str, actor: str = "admin") -> dict:
    """The audit row of the call made with this X-Request-ID."""
    deadline = time.monotonic() + 10
    while True:
        for row in await audit_rows(api, actor=actor, expect=0, limit=200):
            if row["request_id"] == request_id:
                return row
        if time.monotonic() > deadline:
            raise AssertionError(f"no audit row for request {request_id}")
        await asyncio.sleep(0.1)
