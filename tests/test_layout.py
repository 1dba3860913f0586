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


# `conneskills/` is the platform's client and console script, a consumer of the API: it speaks HTTP
# and shares only the API's schema models (its types), never the app, the store or the workflows,
# so it runs anywhere the API is reachable; and nothing of the platform depends on it.
PLATFORM_PACKAGES = (
    "api",
    "contracts",
    "workflows",
    "activities",
    "providers",
    "store",
    "temporal",
    "localcloud",
    "gateway",
    "core",
    "worker",
)


def test_the_client_reaches_the_platform_only_through_the_api_schemas():
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m
            for m in imported_modules(path)
            if m.split(".")[0] in PLATFORM_PACKAGES and not m.startswith("api.schemas")
        )
        for path in (ROOT / "conneskills").rglob("*.py")
    }
    assert {path: mods for path, mods in offenders.items() if mods} == {}


def test_the_platform_never_imports_the_client():
    paths = [ROOT / "worker.py"]
    for package in PLATFORM_PACKAGES:
        paths += (ROOT / package).rglob("*.py")
    offenders = [
        str(path.relative_to(ROOT))
        for path in paths
        if path.exists() and any(m.split(".")[0] == "conneskills" for m in imported_modules(path))
    ]
    assert offenders == []
