"""Recorded workflow histories: where they live, what each one covers (its workflow type and the
patch markers it carries), and which patch ids the workflow source asks for."""

from __future__ import annotations

import ast
import base64
import importlib
import json
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import WorkflowHistory

_TESTS = Path(__file__).resolve().parents[1]
_WORKFLOWS_SOURCE = _TESTS.parent / "workflows"
# Each system's replay test replays its own folder; tests/histories holds what the recorder writes.
HISTORY_DIRS = (
    _TESTS / "histories",
    _TESTS / "provisioning" / "histories",
    _TESTS / "runners" / "histories",
)
RECORDED_DIR = HISTORY_DIRS[0]
# The SDK's marker for workflow.patched() and workflow.deprecate_patch().
PATCH_MARKER = "core_patch"
_PATCH_CALLS = {"patched", "deprecate_patch"}


@dataclass(frozen=True)
class HistoryCoverage:
    workflow_type: str
    patch_ids: frozenset[str]


def history_files() -> list[Path]:
    return sorted(path for folder in HISTORY_DIRS for path in folder.glob("*.json"))


def load_history(path: Path) -> WorkflowHistory:
    """A recorded history under its own workflow id (child workflow ids derive from it)."""
    text = path.read_text()
    started = json.loads(text)["events"][0]["workflowExecutionStartedEventAttributes"]
    return WorkflowHistory.from_json(started.get("workflowId") or path.stem, text)


def coverage_of(history: dict) -> HistoryCoverage:
    """The workflow type a history started and the patch ids its markers record."""
    events = history["events"]
    started = events[0]["workflowExecutionStartedEventAttributes"]
    patches = set()
    for event in events:
        marker = event.get("markerRecordedEventAttributes")
        if not marker or marker.get("markerName") != PATCH_MARKER:
            continue
        for details in marker.get("details", {}).values():
            for payload in details.get("payloads", []):
                patches.add(json.loads(base64.b64decode(payload["data"]))["id"])
    return HistoryCoverage(started["workflowType"]["name"], frozenset(patches))


def patch_ids_in_source() -> dict[str, str]:
    """Every id given to workflow.patched()/deprecate_patch() under workflows/, with the file
    that asks for it. An id named by a constant is read from the module that uses it."""
    found: dict[str, str] = {}
    for path in sorted(_WORKFLOWS_SOURCE.rglob("*.py")):
        module_name = ".".join(path.relative_to(_WORKFLOWS_SOURCE.parent).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in _PATCH_CALLS
                and node.args
            ):
                continue
            argument = node.args[0]
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                patch_id = argument.value
            elif isinstance(argument, ast.Name):
                patch_id = getattr(importlib.import_module(module_name), argument.id)
            else:
                raise ValueError(
                    f"{path}:{node.lineno}: name the patch id by a literal or constant"
                )
            found[patch_id] = f"{path.relative_to(_WORKFLOWS_SOURCE.parent)}:{node.lineno}"
    return found
