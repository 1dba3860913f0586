"""What a job and the lock on its subject say to each other across the Temporal boundary: the lock
workflow's name and id, its signals, and the activities it needs. Nothing here knows a system."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field

from contracts.timeouts import JobTimeouts

LOCK_WORKFLOW = "ResourceLock"
ACQUIRE_SIGNAL = "acquire"
# The same request as an Update: the answer is the job's place at once (see workflows/resource_lock.py).
ACQUIRE_UPDATE = "acquire_turn"
RELEASE_SIGNAL = "release"
# A job that will end without giving its turn back (terminated by a force-cancel) hands it to the
# job that cleans up after it, so nobody queued behind runs before that cleanup.
HAND_OVER_UPDATE = "hand_over_turn"
TURN_SIGNAL = "lock_turn"
LOCK_STATE_QUERY = "lock_state"
# Jobs recorded before serialization replay without it.
SERIALIZED_PATCH = "serialized-by-subject"
# Lock workflows live in their own namespace division: visibility leaves them out of every listing
# whose query does not name the division (as it does for schedules' workflows), so the job listings
# stay unfiltered and never show a lock as a job.
LOCK_DIVISION = "ConneskillsLocks"
# A lock lives while jobs hold or wait for its subject, which may be for days on a busy one; the
# reaper never looks at it (it is not a job). Its execution timeout only ends a lock forgotten by
# everyone: a job still waiting asks again every few minutes and brings it back.
LOCK_TIMEOUTS = JobTimeouts(expected=timedelta(days=1), execution=timedelta(days=30))


class LockSteps:
    REQUEST_TURN = "jobs.request_turn"
    HOLDER_ENDED = "jobs.holder_ended"
    # The `release` signal sent by a local activity (a job whose steps run locally): no workflow
    # task waits for the signal's round trip. True when sent, False when the lock is gone.
    RELEASE_TURN = "jobs.release_turn"


def lock_id(subject_key: str) -> str:
    return f"lock-{subject_key}"


class JobRef(BaseModel):
    job_id: str


class TurnRequest(BaseModel):
    subject: str
    job_id: str


class HandOver(BaseModel):
    """`job_id`'s turn goes to `successor` when `job_id` ends, ahead of every job queued."""

    job_id: str
    successor: str


class Turn(BaseModel):
    """What the lock tells a job: the jobs ahead of it, holder first; none means it is its turn."""

    queued_behind: list[str] = Field(default_factory=list)

    @property
    def granted(self) -> bool:
        return not self.queued_behind


class LockState(BaseModel):
    """A lock's whole state, carried over continue-as-new."""

    subject: str
    check_seconds: float = 30.0
    holder: str | None = None
    queue: list[str] = Field(default_factory=list)
    # What each job was last told, so a job hears only about changes.
    told: dict[str, list[str]] = Field(default_factory=dict)
    # Holding or queued job -> the job that takes its place when it ends (see HandOver).
    successors: dict[str, str] = Field(default_factory=dict)
