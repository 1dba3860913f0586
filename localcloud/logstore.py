"""The log entries every emulated API writes to and Cloud Logging serves, oldest first."""

from __future__ import annotations

import uuid
from typing import Any

from localcloud import naming
from localcloud.state import LocalCloudState

API = "cloud_logging"
# Oldest entries are dropped past this, as retention would; keeps the state file small.
MAX_ENTRIES = 10_000

SEVERITIES: dict[str, int] = {
    "DEFAULT": 0,
    "DEBUG": 100,
    "INFO": 200,
    "NOTICE": 300,
    "WARNING": 400,
    "ERROR": 500,
    "CRITICAL": 600,
    "ALERT": 700,
    "EMERGENCY": 800,
}
_SEVERITY_NAMES = {number: name for name, number in SEVERITIES.items()}


def severity_name(value: Any) -> str:
    """Accept a LogSeverity name or number (clients send either); raise ValueError otherwise."""
    if value is None or value == "":
        return "DEFAULT"
    if isinstance(value, str) and value.upper() in SEVERITIES:
        return value.upper()
    try:
        return _SEVERITY_NAMES[int(value)]
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"invalid severity {value!r}") from None


def canonical_timestamp(value: Any) -> str:
    # One fixed spelling (UTC, 6 fraction digits, Z) so entries sort as plain strings.
    return naming.parse_rfc3339(str(value)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def append(state: LocalCloudState, entries: list[dict[str, Any]], now: float | None = None) -> None:
    """Store already-validated entries, filling what the service fills (ids, receive time)."""
    now = naming.now() if now is None else now
    received = naming.rfc3339(now)
    with state.lock:
        doc = state.document(API)
        stored = doc.setdefault("entries", [])
        for entry in entries:
            entry = dict(entry)
            entry.setdefault("insertId", uuid.uuid4().hex[:20])
            entry["timestamp"] = canonical_timestamp(entry.get("timestamp") or received)
            entry["receiveTimestamp"] = received
            entry["severity"] = severity_name(entry.get("severity"))
            stored.append(entry)
        # Stable sort: entries with equal timestamps keep the order they were written in.
        stored.sort(key=lambda e: e["timestamp"])
        del stored[: max(0, len(stored) - MAX_ENTRIES)]
        state.save(API)


def all_entries(state: LocalCloudState) -> list[dict[str, Any]]:
    with state.lock:
        return list(state.document(API).get("entries", []))
