"""How long a job of each workflow type should take, and when Temporal ends it regardless.

- `expected`: what the type's work takes with its outside APIs slow but up (retries of an outage
  included up to a point). A job still open past it is raised as an alert by the JobReaper
  schedule: nothing sits in a non-terminal state unnoticed.
- `execution`: Temporal's workflow execution timeout, the last resort. It kills without
  compensation, so it is generous: at least four times `expected` and never under two days, since a
  job on hold waits up to the hold timeout (24 h by default) for an operator.

Each system declares its types' figures next to their names (`contracts/<system>/names.py`);
`contracts/workflow_timeouts.py` collects them for whoever starts workflows and for the reaper."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

MIN_EXECUTION = timedelta(days=2)
EXECUTION_OVER_EXPECTED = 4


@dataclass(frozen=True)
class JobTimeouts:
    expected: timedelta
    execution: timedelta = MIN_EXECUTION

    def __post_init__(self) -> None:
        floor = max(MIN_EXECUTION, self.expected * EXECUTION_OVER_EXPECTED)
        if self.execution < floor:
            raise ValueError(f"execution timeout {self.execution} under {floor}")


# For a workflow type nobody declared (a type added without its figures is refused by a test;
# this keeps a start from failing meanwhile).
DEFAULT_TIMEOUTS = JobTimeouts(expected=timedelta(hours=1))
