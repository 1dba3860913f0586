"""Activities of the shared job machinery (domain-free): asking the lock on a subject for a turn,
giving it back (for a job whose steps run locally), and telling the lock whether its holder has
ended. Both need the Temporal client, which workflows
cannot use themselves."""

from __future__ import annotations

from temporalio import activity
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowExecutionStatus
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory
from temporalio.service import RPCError, RPCStatusCode

from contracts import task_queues
from contracts.resource_lock import (
    ACQUIRE_UPDATE,
    LOCK_DIVISION,
    LOCK_TIMEOUTS,
    LOCK_WORKFLOW,
    RELEASE_SIGNAL,
    JobRef,
    LockState,
    LockSteps,
    Turn,
    TurnRequest,
    lock_id,
)
from core.settings import Settings
from temporal import search_attributes as sa


class JobActivities:
    def __init__(self, client: Client, settings: Settings) -> None:
        self.client = client
        self.settings = settings

    def all(self) -> list:
        return [self.request_turn, self.release_turn, self.holder_ended]

    @activity.defn(name=LockSteps.REQUEST_TURN)
    async def request_turn(self, request: TurnRequest) -> Turn:
        """Queues the job on its subject's lock, starting the lock if nobody holds it, and returns
        the job's place (update-with-start: one atomic call, so a lock that is just ending cannot
        lose the request). Asking again is harmless: the answer is the place the job already has."""
        lock = WithStartWorkflowOperation(
            LOCK_WORKFLOW,
            LockState(subject=request.subject, check_seconds=self.settings.job_lock_check_seconds),
            id=lock_id(request.subject),
            # The core queue, which every worker serves: jobs of any system may queue on a lock,
            # and it must outlive the workers of any one system.
            task_queue=task_queues.queue(self.settings.task_queue, task_queues.CORE),
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=TypedSearchAttributes(
                [SearchAttributePair(sa.NAMESPACE_DIVISION, LOCK_DIVISION)]
            ),
            static_summary=f"lock on {request.subject}",
            execution_timeout=LOCK_TIMEOUTS.execution,
        )
        return await self.client.execute_update_with_start_workflow(
            ACQUIRE_UPDATE,
            JobRef(job_id=request.job_id),
            start_workflow_operation=lock,
            result_type=Turn,
        )

    @activity.defn(name=LockSteps.RELEASE_TURN)
    async def release_turn(self, request: TurnRequest) -> bool:
        """Signals `release` to the subject's lock; False when the lock is not running (ended or
        terminated by hand: nobody waits on it for this job). Releasing twice is harmless: the
        lock drops a job that neither holds nor waits without effect."""
        try:
            await self.client.get_workflow_handle(lock_id(request.subject)).signal(
                RELEASE_SIGNAL, JobRef(job_id=request.job_id)
            )
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return True

    @activity.defn(name=LockSteps.HOLDER_ENDED)
    async def holder_ended(self, ref: JobRef) -> None:
        """Returns once the job has ended; fails while it runs, and the lock's retry policy polls."""
        try:
            description = await self.client.get_workflow_handle(ref.job_id).describe()
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return
            raise
        if description.status == WorkflowExecutionStatus.RUNNING:
            raise ApplicationError(
                f"job {ref.job_id} still holds its turn",
                type="StillRunning",
                category=ApplicationErrorCategory.BENIGN,
            )
