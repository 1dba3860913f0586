"""The runners system's workflows (seed 004), collected by `worker.py`."""

from workflows.runners.cleanup import RunnerCleanup
from workflows.runners.ephemeral import EphemeralRunner

WORKFLOWS = [EphemeralRunner, RunnerCleanup]
