"""The seed-004 envelope, `{status, data, message, timestamp}`, on every gateway answer, errors too."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.responses import JSONResponse


def timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def success(data: Any, message: str, status: int = 200) -> JSONResponse:
    body = {"status": "success", "data": data, "message": message, "timestamp": timestamp()}
    return JSONResponse(body, status_code=status)


def error(status: int, message: str, data: dict[str, Any] | None = None) -> JSONResponse:
    body = {"status": "error", "data": data, "message": message, "timestamp": timestamp()}
    return JSONResponse(body, status_code=status)


class GatewayError(Exception):
    def __init__(self, status: int, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.data = status, message, data
