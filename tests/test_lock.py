"""The locks (requirements.lock, requirements-dev.lock) agree with pyproject.toml: every requirement
is pinned at a version its specifier admits, nothing the project no longer asks for is pinned as
its own, and every pin carries hashes. `make lock` mends a failure here."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# uv annotates each pin with who asked for it; the project itself is named this way.
ASKED_BY_PROJECT = f"{PROJECT['name']} (pyproject.toml)"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)(?:\s*;\s*(.*?))?\s*\\?$")


def read_lock(path: Path) -> dict[str, dict]:
    """name → {versions, asked_by_project, hashes} (a name may be pinned twice under markers)."""
    pins: dict[str, dict] = {}
    current = None
    for line in path.read_text().splitlines():
        if match := PIN.match(line):
            current = pins.setdefault(
                canonicalize_name(match[1]),
                {"versions": set(), "asked_by_project": False, "hashes": 0},
            )
            current["versions"].add(Version(match[2]))
        elif current is not None and "--hash=sha256:" in line:
            current["hashes"] += 1
        elif (
            current is not None
            and line.strip().lstrip("#").strip().removeprefix("via ") == ASKED_BY_PROJECT
        ):
            current["asked_by_project"] = True
    return pins


def requirements(*extras: str) -> list[Requirement]:
    listed = list(PROJECT["dependencies"])
    for extra in extras:
        listed += PROJECT["optional-dependencies"][extra]
    return [Requirement(text) for text in listed]


LOCKS = [("requirements.lock", ()), ("requirements-dev.lock", ("dev",))]


@pytest.mark.parametrize(("lock", "extras"), LOCKS)
def test_every_requirement_is_pinned_at_a_version_it_admits(lock, extras) -> None:
    pins = read_lock(ROOT / lock)
    for requirement in requirements(*extras):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not in {lock}: run make lock"
        admitted = [v for v in pins[name]["versions"] if requirement.specifier.contains(v)]
        assert admitted, f"{lock} pins {name} at {pins[name]['versions']}, not {requirement}"


@pytest.mark.parametrize(("lock", "extras"), LOCKS)
def test_the_lock_pins_nothing_the_project_no_longer_asks_for(lock, extras) -> None:
    asked = {canonicalize_name(r.name) for r in requirements(*extras)}
    pins = read_lock(ROOT / lock)
    stale = {name for name, pin in pins.items() if pin["asked_by_project"]} - asked
    assert not stale, f"{lock} still pins {stale} for the project: run make lock"


@pytest.mark.parametrize(("lock", "extras"), LOCKS)
def test_every_pin_carries_hashes(lock, extras) -> None:
    pins = read_lock(ROOT / lock)
    assert len(pins) > 50
    assert not [name for name, pin in pins.items() if not pin["hashes"]]


def test_the_dev_lock_runs_the_platform_on_the_same_versions() -> None:
    platform, dev = read_lock(ROOT / "requirements.lock"), read_lock(ROOT / "requirements-dev.lock")
    differ = {n: (p["versions"], dev[n]["versions"]) for n, p in platform.items()}
    assert not {n: v for n, v in differ.items() if v[0] != v[1]}
