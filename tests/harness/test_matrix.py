"""The fault matrix: each (job type, step, fault) case of tests/harness/selection.py, checked by
tests/harness/cases.py's verdict. Ids: `<scenario key>/<step>-<fault>`
(`OffboardCustomer+agents/RetireAgent:agent.delete_key#0-kill`)."""

from __future__ import annotations

import pytest

from tests.harness import catalogue
from tests.harness.cases import run_case, verdict
from tests.harness.known_leaks import intermittent, known_leak
from tests.harness.scenarios import SCENARIOS
from tests.harness.selection import cases


def _params():
    for workflow, step, fault in cases():
        marks = []
        reason = known_leak(workflow, step.label, fault)
        if reason:
            marks.append(pytest.mark.xfail(strict=True, reason=reason))
        flaky = intermittent(workflow, step.label, fault)
        if flaky:
            marks.append(pytest.mark.xfail(strict=False, reason=flaky))
        yield pytest.param(
            workflow, step, fault, id=f"{workflow}/{step.label}-{fault}", marks=marks
        )


@pytest.mark.parametrize(("workflow", "step", "fault"), list(_params()))
async def test_fault_leaves_nothing_or_exactly_one(harness, workflow, step, fault):
    scenario = SCENARIOS[workflow]
    entry = catalogue.load()[workflow]
    outcome = await run_case(harness, scenario, step, fault)
    if fault == "kill":
        assert outcome.status == "completed", f"a killed worker's job ended {outcome.status}"
    problems = verdict(scenario, outcome, entry["footprint"], fault, entry.get("branches"))
    assert not problems, f"{workflow} with {fault} at {step.label}: " + "; ".join(problems)
