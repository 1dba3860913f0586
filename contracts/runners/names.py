"""Names of the runners system (seed 004) that cross the Temporal boundary: operations, workflow and
activity types, the cleanup Schedule's id. Histories hold these values: never change one without a
patch."""

from __future__ import annotations

from datetime import timedelta

from contracts.timeouts import JobTimeouts


class Operations:
    RUNNER = "runner"
    RUNNER_CLEANUP = "runner_cleanup"


class Workflows:
    EPHEMERAL_RUNNER = "EphemeralRunner"
    RUNNER_CLEANUP = "RunnerCleanup"


# Per workflow type (see contracts/timeouts.py). A runner lives up to its max lifetime (6 h by
# default, `runner_max_lifetime_minutes`) waiting for its one GitHub job; a sweep takes minutes.
TIMEOUTS = {
    Workflows.EPHEMERAL_RUNNER: JobTimeouts(expected=timedelta(hours=6, minutes=30)),
    Workflows.RUNNER_CLEANUP: JobTimeouts(expected=timedelta(minutes=10)),
}


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
