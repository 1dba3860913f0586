"""Which harness cases a run holds. `make harness` (HARNESS_FULL=1) runs the whole matrix: every
step of every job type under every fault. `make test` runs every step once, its fault chosen by
rotation from a seed: HARNESS_SEED, or one drawn at the start of the run and printed (pytest's
controller draws it before the xdist workers start, so they all collect the same cases).

HARNESS_SCENARIOS (comma-separated scenario keys, `OffboardCustomer+agents,RunnerCleanup`) narrows
the matrix, the catalogue's successful runs and the teeth check to those scenarios."""

from __future__ import annotations

import os

from tests.harness import catalogue
from tests.harness.cases import FAULTS, Step
from tests.harness.seed import FULL_ENV, ONLY_ENV, ensure_seed


def full_matrix() -> bool:
    return os.environ.get(FULL_ENV) == "1"


def selected(key: str) -> bool:
    """Whether HARNESS_SCENARIOS (when set) names this scenario key."""
    only = {name.strip() for name in os.environ.get(ONLY_ENV, "").split(",") if name.strip()}
    return not only or key in only


def cases() -> list[tuple[str, Step, str]]:
    """(scenario key, step, fault), in catalogue order."""
    chosen = []
    seed = ensure_seed()
    for key, entry in sorted(catalogue.load().items()):
        if not selected(key):
            continue
        for index, step in enumerate(catalogue.steps(entry)):
            if full_matrix():
                chosen.extend((key, step, fault) for fault in FAULTS)
            else:
                # Consecutive steps get consecutive faults, so each fault is used along each job.
                chosen.append((key, step, FAULTS[(seed + index) % len(FAULTS)]))
    return chosen
