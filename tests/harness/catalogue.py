"""The checked-in catalogue (tests/harness/steps.json) of what each scenario's successful run does:
its steps (the activities it and its child jobs schedule, in history order), the undo activities
its compensation runs, and its footprint (what it changes, normalised). Pytest needs the steps at
collection time, so they are read from here; `make harness-steps` rewrites the file from real runs,
and tests/harness/test_catalogue.py fails when a real run no longer matches it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.harness.cases import Step

PATH = Path(__file__).with_name("steps.json")


def load() -> dict[str, dict]:
    return json.loads(PATH.read_text()) if PATH.exists() else {}


def steps(entry: dict) -> list[Step]:
    return [Step.parse(label) for label in entry["steps"]]


def save(catalogue: dict[str, dict]) -> None:
    PATH.write_text(json.dumps(catalogue, indent=2, sort_keys=True) + "\n")
