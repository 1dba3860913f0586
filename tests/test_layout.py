"""The layout's rules, checked on the imports themselves: they hold for every system that is added."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_JOB_MACHINERY = [
    "workflows/job.py",
    "workflows/saga.py",
    "workflows/steps.py",
    "workflows/tracking.py",
    "workflows/resource_lock.py",
    "activities/jobs.py",
    "contracts/resource_lock.py",
    "api/job_engine.py",
    "api/deps.py",
    "api/auth.py",
    "api/errors.py",
    "contracts/jobs.py",
    "temporal/search_attributes.py",
]
SYSTEMS = ("provisioning", "hosting", "assistant", "crm", "runners")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
            modules |= {f"{node.module}.{alias.name}" for alias in node.names}
    return modules


def test_the_api_never_imports_activities_or_workflows():
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m for m in imported_modules(path) if m.split(".")[0] in ("activities", "workflows")
        )
        for path in (ROOT / "api").rglob("*.py")
    }
    assert {path: mods for path, mods in offenders.items() if mods} == {}


def test_the_shared_job_machinery_names_no_system():
    offenders = {
        name: sorted(
            m for m in imported_modules(ROOT / name) if any(s in m.split(".") for s in SYSTEMS)
        )
        for name in SHARED_JOB_MACHINERY
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}


def test_activities_hold_only_activity_code():
    """Every module under activities/<system>/ defines activities; adapters live in providers/."""
    for path in (ROOT / "activities").rglob("*.py"):
        if path.name == "__init__.py" or path.parent == ROOT / "activities":
            continue
        assert "@activity.defn" in path.read_text(), f"{path.relative_to(ROOT)} has no activity"


def test_no_test_module_imports_another_test_module():
    for path in (ROOT / "tests").rglob("test_*.py"):
        imported = imported_modules(path)
        assert not [m for m in imported if m.split(".")[-1].startswith("test_")], path
        assert "tests.conftest" not in imported, path
