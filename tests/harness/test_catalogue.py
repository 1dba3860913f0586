"""Every job type users start has a scenario, and the catalogue still matches real runs."""

from __future__ import annotations

import pytest

import worker
from tests.harness import catalogue
from tests.harness.cases import run_case
from tests.harness.scenarios import EXCLUDED, NOT_YET, SCENARIOS


def test_every_job_type_has_a_scenario():
    registered = {definition.__temporal_workflow_definition.name for definition in worker.WORKFLOWS}
    missing = registered - set(SCENARIOS) - set(EXCLUDED) - set(NOT_YET)
    assert not missing, (
        f"job types without a harness scenario (tests/harness/scenarios.py): {missing}"
    )
    assert not set(SCENARIOS) & set(NOT_YET), (
        "a job type with a scenario is still listed in NOT_YET"
    )
    assert set(SCENARIOS) <= set(catalogue.load()), "run make harness-steps"


@pytest.mark.parametrize("workflow", sorted(SCENARIOS))
async def test_successful_run_matches_the_catalogue(harness, workflow):
    entry = catalogue.load().get(workflow)
    assert entry is not None, "run make harness-steps"
    outcome = await run_case(harness, SCENARIOS[workflow], None, None)
    assert outcome.status == "completed", outcome
    labels = [step.label for step in outcome.steps]
    assert labels == entry["steps"], f"the steps changed: run make harness-steps ({labels})"
    assert outcome.changes == entry["footprint"], (
        f"the footprint changed: run make harness-steps ({outcome.changes})"
    )
