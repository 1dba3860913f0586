"""For workflow-logic tests on the time-skipping server: the ResourceLock's worker, which every job
needs to take its subject's turn."""

from __future__ import annotations

from temporalio.worker import Worker

from activities.jobs import JobActivities
from contracts import task_queues
from workflows.resource_lock import ResourceLock


def lock_worker(client, queue: str, jobs: JobActivities) -> Worker:
    """The lock on the core queue of the test's queue prefix, where the turn request starts it."""
    return Worker(
        client,
        task_queue=task_queues.queue(queue, task_queues.CORE),
        workflows=[ResourceLock],
        activities=jobs.all(),
    )
