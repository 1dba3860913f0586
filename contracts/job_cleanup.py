"""The cleanup job that follows a force-cancel: the terminated job could not compensate, so every
system's registered cleanup step removes what carries that job's id in its outside systems.

Each system names its step in its own contracts and lists it in `JOB_CLEANUPS` of its
`api/routes/<system>/__init__.py` (the API passes the collected names in the input); the step's
activity takes a `JobCleanupInput` and returns a `JobCleanupResult`."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field

from contracts.jobs import JobSubject
from contracts.timeouts import JobTimeouts

CLEANUP_WORKFLOW = "CleanupAfterTerminate"
CLEANUP_OPERATION = "cleanup"
# Label of a cleanup job: the id of the job it cleans up after.
CLEANUP_OF_LABEL = "cleanup_of"
# Every system's step deletes what the terminated job made (Cloud Run services, secrets, runner
# containers): minutes each (see contracts/timeouts.py).
CLEANUP_TIMEOUTS = JobTimeouts(expected=timedelta(minutes=30))


class JobCleanupInput(BaseModel):
    job_id: str = Field(min_length=1, max_length=200)
    # The jobs the terminated job had started (child workflows, at any depth): terminated with it,
    # they own what they made under their own ids, so each step runs for them too.
    child_job_ids: list[str] = Field(default_factory=list)
    # The registered cleanup steps (activity names), run one after the other.
    steps: list[str] = Field(default_factory=list)
    # The terminated job's subject (`service:hello`): the cleanup runs in its turn (handed over by
    # the terminated job, see contracts/resource_lock.py), so no job queued on that subject runs
    # before the cleanup has ended. None for a job without one, and for cleanups started before.
    subject: JobSubject | None = None
    # Each step's task queue: its system's, where its activity is served (the cleanup itself runs
    # on the core queue). A step not named here runs on the cleanup's own queue, as all did before
    # the queues were split.
    step_queues: dict[str, str] = Field(default_factory=dict)


class JobCleanupResult(BaseModel):
    """What one system's step removed, in words (`cloud run service foo`)."""

    removed: list[str] = Field(default_factory=list)


def cleanup_job_id(job_id: str) -> str:
    return f"{CLEANUP_OPERATION}-{job_id}"
