"""Fault injection for reliability tests: fail or slow matching requests, or fail the next operations.

A fault matches a request by the rule of `localcloud.request_match`, the one the request counter
uses: `method` (if set) equals its HTTP method and `path_contains` (if set) is a substring of its
path with the query. Control-plane paths (`/_localcloud/...`) never match. The local cloud is
shared by every test of a session: a test scopes its faults to its own job by a name only that job
uses (`path_contains=f"serviceId={name}"`), and reads how many requests each fault hit (`fired`).
A create that names its resource only in its body (a LiteLLM key's alias, a Jira project's key) is
picked by `body_contains` as well: a substring of the request body (read as UTF-8, only while a
fault asks for it).

- `fail_next: N > 0` with `code` (HTTP status, google.rpc number or status name; default 503):
  the next N matching requests wait `latency_ms`, then answer that error. With `code: null` or 0
  they only wait. The fault disappears once used N times.
- `fail_next: 0` (or absent): a persistent latency of `latency_ms` on every matching request
  until the faults are cleared; `code` is ignored.
- `operation_error: {"code": <google.rpc number>, "message": ...}` with `fail_next: N`: the
  request is served normally, but the next N long-running operations created by matching requests
  finish `done: true` with that error.

Every matching fault applies to a request (latencies add up); if several would fail it, the
oldest one's error wins. A used-up or cleared fault is no longer listed but can still be read by
its id (`GET /_localcloud/faults/{id}`) until a reset, with its `fired` count.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from localcloud.errors import (
    GRPC_CODES,
    STATUS_BY_NAME,
    ApiError,
    invalid,
    not_found,
    status_for_code,
)
from localcloud.request_match import is_control_plane, matches, request_target

_ids = itertools.count(1)
_FIELDS = {
    "fail_next",
    "code",
    "method",
    "path_contains",
    "latency_ms",
    "operation_error",
    "message",
    "body_contains",
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
    # Requests (or new long-running operations) this fault applied to.
    fired: int = 0
    body_contains: str | None = None

    @property
    def persistent(self) -> bool:
        return self.remaining == 0 and self.operation_error is None

    def matches(self, method: str, target: str, body: str | None) -> bool:
        if not matches(method, target, self.method, self.path_contains):
            return False
        return not self.body_contains or (body is not None and self.body_contains in body)

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
        # Faults no longer active, kept to answer how often they fired (bounded for `make run`).
        self._ended: deque[Fault] = deque(maxlen=1000)

    def add(self, spec: dict[str, Any]) -> Fault:
        fault = _parse(spec)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._ended.extend(self._faults)
            self._faults.clear()

    def forget(self) -> None:
        """Clears the faults and the record of the ended ones (a reset)."""
        with self._lock:
            self._faults.clear()
            self._ended.clear()

    def get(self, fault_id: int) -> dict[str, Any]:
        with self._lock:
            for fault in (*self._faults, *self._ended):
                if fault.id == fault_id:
                    return fault.describe()
        raise not_found(f"fault {fault_id}")

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.describe() for f in self._faults]

    def wants_body(self) -> bool:
        """Whether an active fault matches on the body: only then is a request's body read."""
        with self._lock:
            return any(fault.body_contains for fault in self._faults)

    def apply(self, method: str, target: str, body: str | None = None) -> Applied:
        """Consume the request faults matching this request (path with query, and its body when
        read) and say what to do to it."""
        if is_control_plane(target):
            return Applied()
        applied = Applied()
        with self._lock:
            for fault in list(self._faults):
                if fault.operation_error is not None or not fault.matches(method, target, body):
                    continue
                applied.latency_ms += fault.latency_ms
                if fault.persistent:
                    fault.fired += 1
                    continue
                if fault.status and applied.error is None:
                    applied.error = ApiError(fault.status, fault.message)
                self._use(fault)
        return applied

    def take_operation_error(self, request: Any) -> dict[str, Any] | None:
        """The error the long-running operation a request (FastAPI `Request`) creates must end
        with, if a fault asks for one."""
        method, target = request.method, request_target(request.url.path, request.url.query)
        body = body_read_for_faults(request)
        with self._lock:
            for fault in self._faults:
                if fault.operation_error is not None and fault.matches(method, target, body):
                    self._use(fault)
                    return dict(fault.operation_error)
        return None

    def _use(self, fault: Fault) -> None:
        fault.fired += 1
        fault.remaining -= 1
        if fault.remaining <= 0:
            self._faults.remove(fault)
            self._ended.append(fault)


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
    body_contains = spec.get("body_contains")
    if method is not None and not isinstance(method, str):
        raise invalid("method must be a string or null")
    if path_contains is not None and not isinstance(path_contains, str):
        raise invalid("path_contains must be a string or null")
    if body_contains is not None and not isinstance(body_contains, str):
        raise invalid("body_contains must be a string or null")
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
        body_contains=body_contains or None,
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


def body_read_for_faults(request: Any) -> str | None:
    """The body the middleware read for the faults matching on it (None when none asked)."""
    return getattr(request.state, "body_for_faults", None)


def faults_of(request: Any) -> FaultRegistry:
    """The fault registry of the app serving this request (FastAPI `Request`)."""
    return request.app.state.faults
