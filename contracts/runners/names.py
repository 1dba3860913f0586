"""Names of the runners system (seed 004) that cross the Temporal boundary: operations, workflow and
activity types, the cleanup Schedule's id. Histories hold these values: never change one without a
patch."""

from __future__ import annotations


class Operations:
    RUNNER = "runner"
    RUNNER_CLEANUP = "runner_cleanup"


class Workflows:
    EPHEMERAL_RUNNER = "EphemeralRunner"
    RUNNER_CLEANUP = "RunnerCleanup"


class RunnerSteps:
    START = "runners.start"
    AWAIT_EXIT = "runners.await_exit"
    REMOVE_CONTAINER = "runners.remove_container"
    DEREGISTER = "runners.deregister"
    TEARDOWN = "runners.teardown"
    CLEANUP = "runners.cleanup"
    # After a force-cancel: what the terminated job made (contracts/job_cleanup.py).
    CLEANUP_AFTER_TERMINATE = "runners.cleanup_after_terminate"


CLEANUP_SCHEDULE_ID = "runners-cleanup"
