"""Every job type users start has a scenario, and the catalogue still matches real runs."""

from __future__ import annotations

import pytest

import worker
from tests.harness import catalogue
from tests.harness.cases import run_case
from tests.harness.scenarios import EXCLUDED, NOT_YET, SCENARIOS
from tests.harness.selection import selected


def test_every_job_type_has_a_scenario():
    registered = {definition.__temporal_workflow_definition.name for definition in worker.WORKFLOWS}
    covered = {scenario.workflow for scenario in SCENARIOS.values()}
    missing = registered - covered - set(EXCLUDED) - set(NOT_YET)
    assert not missing, (
        f"job types without a harness scenario (tests/harness/scenarios/): {missing}"
    )
    assert not covered & set(NOT_YET), "a job type with a scenario is still listed in NOT_YET"
    assert not covered & set(EXCLUDED), "a job type with a scenario is still listed in EXCLUDED"
    assert set(SCENARIOS) <= set(catalogue.load()), "run make harness-steps"
    assert set(catalogue.load()) <= set(SCENARIOS), (
        f"steps.json has entries no scenario has: {set(catalogue.load()) - set(SCENARIOS)}"
    )


def test_scenario_keys_name_their_workflow_type():
    for key, scenario in SCENARIOS.items():
        assert key == scenario.key
        assert key.split("+", 1)[0] == scenario.workflow
        assert catalogue.load()[key]["steps"][0].startswith(f"{scenario.workflow}:"), key


@pytest.mark.parametrize("key", [key for key in sorted(SCENARIOS) if selected(key)])
async def test_successful_run_matches_the_catalogue(harness, key):
    entry = catalogue.load().get(key)
    assert entry is not None, "run make harness-steps"
    outcome = await run_case(harness, SCENARIOS[key], None, None)
    assert outcome.status == "completed", outcome
    labels = [step.label for step in outcome.steps]
    assert labels == entry["steps"], f"the steps changed: run make harness-steps ({labels})"
    assert outcome.changes == entry["footprint"], (
        f"the footprint changed: run make harness-steps ({outcome.changes})"
    )
