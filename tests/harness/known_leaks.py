"""Harness cases that find a real leak not fixed yet: each is expected to fail (strict xfail, so the
fix shows as an unexpected pass to remove from here). Keys: (workflow type, step label prefix or
"*", fault or "*")."""

from __future__ import annotations

KNOWN_LEAKS: dict[tuple[str, str, str], str] = {}


def known_leak(workflow: str, step_label: str, fault: str) -> str | None:
    for (w, s, f), reason in KNOWN_LEAKS.items():
        if w == workflow and (s == "*" or step_label.startswith(s)) and f in ("*", fault):
            return reason
    return None
