"""The matrix a run went through, printed at the end of the run (from the controller's reports, so it
covers every xdist worker): the seed, then one line per job type and step with each fault's outcome."""

from __future__ import annotations

import os
import re

from tests.harness.seed import FULL_ENV, SEED_ENV

_CASE = re.compile(r"test_fault_leaves_nothing_or_exactly_one\[(?P<step>.+)-(?P<fault>[a-z_]+)\]$")
# Job type / step, as the case ids name them.
_SHORT = {"passed": "ok", "failed": "FAILED", "skipped": "skipped", "xfailed": "xfail"}


def matrix_lines(terminalreporter) -> list[str]:
    outcomes: dict[str, dict[str, str]] = {}
    for status, reports in terminalreporter.stats.items():
        for report in reports:
            # Only test reports: in one process the stats also hold other objects under a node id.
            match = _CASE.search(str(getattr(report, "nodeid", "")))
            when = getattr(report, "when", None)
            if not match or when not in ("call", "setup"):
                continue
            if when == "setup" and getattr(report, "passed", False):
                continue
            outcome = _SHORT.get(status, status)
            outcomes.setdefault(match["step"], {})[match["fault"]] = outcome
    if not outcomes:
        return []
    mode = "full matrix" if os.environ.get(FULL_ENV) == "1" else "one fault per step by rotation"
    lines = [f"{mode}; seed {os.environ.get(SEED_ENV)} (replay: HARNESS_SEED=…)"]
    for step in sorted(outcomes):
        faults = ", ".join(f"{fault} {result}" for fault, result in sorted(outcomes[step].items()))
        lines.append(f"  {step}: {faults}")
    return lines
