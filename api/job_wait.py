"""`GET /jobs/{id}?wait=N`: the job's answer held until it has settled (ended, or held for an
operator) or N seconds have passed, whichever comes first. A client that waits for a job asks once
(and again after each N seconds) instead of polling: the API follows the job's history by
Temporal's long poll and reads the job again once the history says it has settled (its run ended,
or its phase set to needs_attention), where each poll of a running job cost a describe and a query
answered by a worker."""

from __future__ import annotations

import asyncio

from api import job_history as history
from api.auth import Principal
from api.job_engine import JobEngine
from api.schemas.jobs import Job, JobStatus

# What `wait` waits for: a job that will not change without a person (or ever) again.
SETTLED = frozenset(
    {JobStatus.completed, JobStatus.failed, JobStatus.cancelled, JobStatus.needs_attention}
)
# A request held longer than this would outlive the timeouts of common HTTP clients and proxies.
MAX_WAIT_SECONDS = 30.0


async def settled_job(jobs: JobEngine, job_id: str, principal: Principal, seconds: float) -> Job:
    """The job once settled, or as it is after `seconds`. An unknown job is a 404 from the first
    read, before anything is held (a key that may not read jobs never gets here: a 403)."""
    job, _state = await jobs.get(job_id, principal)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    token = b""
    while job.status not in SETTLED and (left := deadline - loop.time()) > 0:
        token, changed = await history.next_change(jobs.client, job_id, token, left)
        if changed:
            job, _state = await jobs.get(job_id, principal)
    return job
