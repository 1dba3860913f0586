"""The assistant system's scenarios (seed 002)."""

from __future__ import annotations

from tests.harness.scenarios.base import Scenario

SCENARIOS: tuple[Scenario, ...] = ()
