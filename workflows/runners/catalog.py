"""The runners workflows the worker registers."""

from workflows.runners.cleanup import RunnerCleanup
from workflows.runners.ephemeral import EphemeralRunner

WORKFLOWS = [EphemeralRunner, RunnerCleanup]
