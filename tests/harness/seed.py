"""The fault harness's seed and switches, without the harness: pytest's controller draws the seed
before the xdist workers start and prints the matrix after them, and it runs no test, so it never
needs to import the harness (or the platform the harness imports)."""

from __future__ import annotations

import os
import random

SEED_ENV = "HARNESS_SEED"
FULL_ENV = "HARNESS_FULL"
ONLY_ENV = "HARNESS_SCENARIOS"


def ensure_seed() -> int:
    if not os.environ.get(SEED_ENV):
        os.environ[SEED_ENV] = str(random.SystemRandom().randrange(10_000))
    return int(os.environ[SEED_ENV])
