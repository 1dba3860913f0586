"""Fault injection for reliability tests: fail or slow matching requests, or fail the next operations.

A fault matches a request when `method` (if set) equals its HTTP method and `path_contains` (if set)
is a substring of its path. Control-plane paths (`/_localcloud/...`) never match.

- `fail_next: N > 0` with `code` (HTTP status, google.rpc number or status name; default 503):
  the next N matching requests wait `latency_ms`, then answer that error. With `code: null` or 0
  they only wait. The fault disappears once used N times.
- `fail_next: 0` (or absent): a persistent latency of `latency_ms` on every matching request
  until the faults are cleared; `code` is ignored.
- `operation_error: {"code": <google.rpc number>, "message": ...}` with `fail_next: N`: the
  request is served normally, but the next N long-running operations created by matching requests
  finish `done: true` with that error.

Every matching fault applies to a request (latencies add up); if several would fail it, the
oldest one's error wins.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import asdict, dataclass
from typing import Any

from localcloud.errors import GRPC_CODES, STATUS_BY_NAME, ApiError, invalid, status_for_code

_ids = itertools.count(1)
_FIELDS = {
    "fail_next",
    "code",
    "method",
    "path_contains",
    "latency_ms",
    "operation_error",
    "message",
}


@dataclass
class Fault:
    id: int
    remaining: int
    status: str | None
    method: str | None
    path_contains: str | None
    latency_ms: int
    operation_error: dict[str, Any] | None
    message: str

    @property
    def persistent(self) -> bool:
        return self.remaining == 0 and self.operation_error is None

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method != method.upper():
            return False
        return not (self.path_contains and self.path_contains not in path)

    def describe(self) -> dict[str, Any]:
        data = asdict(self)
        data["code"] = STATUS_BY_NAME[self.status][1] if self.status else None
        return data


@dataclass
class Applied:
    latency_ms: int = 0
    error: ApiError | None = None


class FaultRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, spec: dict[str, Any]) -> Fault:
        fault = _parse(spec)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.describe() for f in self._faults]

    def apply(self, method: str, path: str) -> Applied:
        """Consume the request faults matching this request and say what to do to it."""
        if path.startswith("/_localcloud"):
            return Applied()
        applied = Applied()
        with self._lock:
            for fault in list(self._faults):
                if fault.operation_error is not None or not fault.matches(method, path):
                    continue
                applied.latency_ms += fault.latency_ms
                if fault.persistent:
                    continue
                if fault.status and applied.error is None:
                    applied.error = ApiError(fault.status, fault.message)
                self._use(fault)
        return applied

    def take_operation_error(self, method: str, path: str) -> dict[str, Any] | None:
        """The error a new long-running operation must end with, if a fault asks for one."""
        with self._lock:
            for fault in self._faults:
                if fault.operation_error is not None and fault.matches(method, path):
                    self._use(fault)
                    return dict(fault.operation_error)
        return None

    def _use(self, fault: Fault) -> None:
        fault.remaining -= 1
        if fault.remaining <= 0:
            self._faults.remove(fault)


def _parse(spec: dict[str, Any]) -> Fault:
    if not isinstance(spec, dict):
        raise invalid("fault must be a JSON object")
    unknown = set(spec) - _FIELDS
    if unknown:
        raise invalid(f"unknown fault fields: {sorted(unknown)}")
    fail_next = _int(spec.get("fail_next") or 0, "fail_next")
    latency_ms = _int(spec.get("latency_ms") or 0, "latency_ms")
    method = spec.get("method")
    path_contains = spec.get("path_contains")
    if method is not None and not isinstance(method, str):
        raise invalid("method must be a string or null")
    if path_contains is not None and not isinstance(path_contains, str):
        raise invalid("path_contains must be a string or null")
    operation_error = spec.get("operation_error")
    code = spec.get("code", 503)
    status = None if code in (None, 0) else status_for_code(code)
    if operation_error is not None:
        operation_error = _operation_error(operation_error)
        if fail_next < 1:
            raise invalid("an operation_error fault needs fail_next >= 1")
        status = None
    elif fail_next == 0 and latency_ms == 0:
        raise invalid("a fault needs fail_next >= 1, latency_ms > 0, or operation_error")
    if operation_error is not None:
        default_message = operation_error["message"]
    else:
        default_message = f"Injected fault: {status}" if status else "Injected latency"
    return Fault(
        id=next(_ids),
        remaining=fail_next,
        status=status,
        method=method.upper() if method else None,
        path_contains=path_contains or None,
        latency_ms=latency_ms,
        operation_error=operation_error,
        message=str(spec.get("message") or default_message),
    )


def _operation_error(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid("operation_error must be an object {code, message}")
    code = value.get("code", 13)
    if isinstance(code, str):
        code = STATUS_BY_NAME.get(code.upper(), (None,))[0]
    if code not in GRPC_CODES:
        raise invalid("operation_error.code must be a google.rpc code number (1-16) or name")
    message = str(value.get("message") or f"Injected operation failure: {GRPC_CODES[code][0]}")
    return {"code": code, "message": message}


def _int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid(f"{field} must be a non-negative integer")
    return value


def faults_of(request: Any) -> FaultRegistry:
    """The fault registry of the app serving this request (FastAPI `Request`)."""
    return request.app.state.faults
