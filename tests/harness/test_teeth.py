"""The harness has teeth: with any one undo made a no-op (that still reports ok, as the leak of a
cancelled onboarding's service account did), at least one harness case must fail. Run by
`make harness` only (each undo costs a few cases); HARNESS_SCENARIOS narrows it to the undos of
those scenarios, tried on those scenarios only."""

from __future__ import annotations

import pytest

from tests.harness import catalogue
from tests.harness.cases import run_case, verdict
from tests.harness.known_leaks import known_leak
from tests.harness.scenarios import SCENARIOS
from tests.harness.selection import full_matrix, selected

# Undo activities that change nothing by design, so no case can fail when they are made a no-op:
# the check skips them, with the reason.
NO_EFFECT: dict[str, str] = {
    # SetupImageBuild's compensation still schedules it (jobs already running list the step), but
    # it removes nothing: the Cloud Build connection and link are the platform's, shared by every
    # image build of the owner or repository (the scenario's `shared` kinds).
    "image_build.delete_connection": "removes nothing by design: the connection and the link "
    "are the platform's, shared by other image builds",
}


def _params():
    for undo in sorted(_undos()):
        reason = NO_EFFECT.get(undo)
        marks = [pytest.mark.skip(reason=reason)] if reason else []
        yield pytest.param(undo, id=undo, marks=marks)


def _undos() -> dict[str, list[str]]:
    """Each undo activity, with the scenarios whose compensation runs it."""
    found: dict[str, list[str]] = {}
    for key, entry in sorted(catalogue.load().items()):
        if not selected(key):
            continue
        for undo in entry["undos"]:
            found.setdefault(undo, []).append(key)
    return found


@pytest.mark.skipif(not full_matrix(), reason="make harness runs the teeth check")
@pytest.mark.parametrize("undo", list(_params()))
async def test_a_no_op_undo_fails_a_harness_case(harness, undo):
    tried = []
    for workflow in _undos()[undo]:
        scenario, entry = SCENARIOS[workflow], catalogue.load()[workflow]  # by scenario key
        # Latest steps first: a failure there has the most undos registered.
        for step in reversed(catalogue.steps(entry)):
            if known_leak(workflow, step.label, "fail_after"):
                continue  # it fails anyway: no proof of anything
            outcome = await run_case(harness, scenario, step, "fail_after", noop=(undo,))
            if verdict(scenario, outcome, entry["footprint"], "fail_after", entry.get("branches")):
                return
            tried.append(step.label)
    pytest.fail(f"with {undo} a no-op, no case failed (tried fail_after at {tried})")
