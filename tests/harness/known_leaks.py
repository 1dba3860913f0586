"""Harness cases that find a real leak not fixed yet: each is a strict xfail with the leak as its
reason, so the suite stays green, the defect stays visible here, and its fix shows up as an
unexpected pass (remove the entry then). Keys: (scenario key, step label, fault); a scenario key is its job type, or
`<job type>+<variant>`."""

from __future__ import annotations

KNOWN_LEAKS: dict[tuple[str, str, str], str] = {}

# Seen only some of the time (so not strict: a pass is no news).
INTERMITTENT: dict[tuple[str, str, str], str] = {}


def known_leak(workflow: str, step_label: str, fault: str) -> str | None:
    return KNOWN_LEAKS.get((workflow, step_label, fault))


def intermittent(workflow: str, step_label: str, fault: str) -> str | None:
    return INTERMITTENT.get((workflow, step_label, fault))
