"""OnboardCustomer (seed 000 §3.1), a job on the customer (`customer:<prefix>`), so the customer's
offboarding (workflows/provisioning/offboarding.py) waits for it to end.

It runs the requested provisionings as parallel child jobs. A branch that fails has already undone
itself: the job records it `failed` with the reason and the others go on. A cancel reaches every
child (each undoes itself), then the job removes what completed branches made and the record.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.exceptions import ApplicationError, CancelledError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from temporalio.exceptions import is_cancelled_exception

    from contracts.job_cleanup import JobCleanupInput, JobCleanupResult
    from contracts.jobs import CUSTOMER_LABEL, JobSubject
    from contracts.provisioning.customers import (
        BranchInput,
        BranchOutcome,
        CustomerNames,
        JiraRemoveInput,
        LiteLLMRemoveInput,
        OnboardCustomerInput,
        OwnedRecord,
        OwnedStep,
        branch_job_id,
    )
    from contracts.provisioning.names import (
        CloudRunSteps,
        CustomerJiraSteps,
        CustomerLiteLLMSteps,
        CustomerSteps,
        CustomerZenMLSteps,
        Operations,
        RegistrySteps,
        Workflows,
    )
    from contracts.provisioning.services import CloudRunCall, DeleteServiceInput

from workflows.child_jobs import run_child_job
from workflows.job import TrackedJob
from workflows.saga import Saga, failure_message
from workflows.steps import step, step_to_the_end
from workflows.tracking import JobTracker

T = TypeVar("T")
# A completed branch is undone by the cleanup step that also serves a force-cancel: one list of
# what a branch makes. The copy kept here before it missed the ZenML runtime account.
BRANCH_UNDO_BY_CLEANUP_PATCH = "completed-branch-undone-by-its-cleanup-step"
# The record's undo is the saga's first, registered before the turn is asked for: a cancel while
# the job asks for or waits for its turn removed nothing before (the record stayed). Histories
# recorded before it delete the record after the saga, in `run`.
RECORD_UNDO_FIRST_PATCH = "customer-record-undo-before-the-turn"
# branch → (child workflow, its operation)
BRANCHES = {
    "jira": (Workflows.PROVISION_CUSTOMER_JIRA, Operations.JIRA_PROVISION),
    "litellm": (Workflows.PROVISION_CUSTOMER_LITELLM, Operations.LITELLM_PROVISION),
    "zenml": (Workflows.PROVISION_CUSTOMER_ZENML, Operations.ZENML_PROVISION),
}


def customer_job(operation: str, prefix: str) -> JobTracker:
    return JobTracker(operation, JobSubject(kind="customer", name=prefix), {CUSTOMER_LABEL: prefix})


def _cancelled(error: BaseException) -> bool:
    return is_cancelled_exception(error) or isinstance(
        getattr(error, "cause", None), CancelledError
    )


@workflow.defn(name=Workflows.ONBOARD_CUSTOMER)
class OnboardCustomer(TrackedJob):
    @workflow.init
    def __init__(self, inp: OnboardCustomerInput) -> None:
        self.tracker = customer_job(Operations.ONBOARD_CUSTOMER, inp.prefix)
        self._inp = inp
        self._record_undo_in_saga = False

    def owned_from_the_start(self, saga: Saga) -> None:
        """The record the API wrote for this job: its undo runs last of the compensation, however
        the job ends undone (a step failed, or a cancel, also while it waits for its turn), so
        the prefix is free again. Only the record this job owns (a fresh retry's onboarding of
        one provisioning, on a customer that exists, owns none)."""
        if not workflow.patched(RECORD_UNDO_FIRST_PATCH):
            return
        self._record_undo_in_saga = True
        owned = OwnedRecord(customer_id=self._inp.customer_id, job_id=workflow.info().workflow_id)
        saga.on_failure(
            "delete the customer record",
            lambda: step(
                CustomerSteps.DELETE_RECORD, owned, bool, start_to_close=timedelta(seconds=30)
            ),
        )

    @workflow.run
    async def run(self, inp: OnboardCustomerInput) -> dict[str, Any]:
        try:
            return await self.run_saga(lambda saga: self._onboard(inp, saga))
        except (asyncio.CancelledError, CancelledError, ApplicationError):
            if self._record_undo_in_saga:
                raise
            # Recorded before the patch: after the compensation, the record goes too.
            owned = OwnedRecord(customer_id=inp.customer_id, job_id=workflow.info().workflow_id)
            self.tracker.log("deleting the customer record")
            await step_to_the_end(
                CustomerSteps.DELETE_RECORD, owned, bool, start_to_close=timedelta(seconds=30)
            )
            raise

    async def _onboard(self, inp: OnboardCustomerInput, saga: Saga) -> dict[str, Any]:
        track, job_id = self.tracker, workflow.info().workflow_id
        requested = [b for b in BRANCHES if getattr(inp, b)]
        for branch in requested:
            saga.on_failure(
                f"remove what the {branch} provisioning made",
                lambda branch=branch: self._undo_branch(inp, branch, branch_job_id(job_id, branch)),
            )
        track.phase(
            "provisioning",
            20,
            f"provisioning {', '.join(requested) or 'nothing'} for customer {inp.prefix}",
        )
        outcomes = await asyncio.gather(
            *(self._branch(inp, branch, branch_job_id(job_id, branch)) for branch in requested),
            return_exceptions=True,
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        provisionings = dict(zip(requested, outcomes, strict=True))
        failed = [b for b, o in provisionings.items() if o["status"] == "failed"]
        return track.complete(
            {
                "customer_id": inp.customer_id,
                "prefix": inp.prefix,
                "provisionings": provisionings,
            },
            f"customer {inp.prefix} onboarded"
            + (f"; failed: {', '.join(failed)}" if failed else ""),
        )

    async def _branch(self, inp: OnboardCustomerInput, branch: str, child_id: str) -> dict:
        workflow_name, operation = BRANCHES[branch]
        child_in = BranchInput(
            customer_id=inp.customer_id,
            prefix=inp.prefix,
            name=inp.name,
            email=inp.email,
            region=inp.region,
            zenml_organization_id=inp.zenml_organization_id,
            zenml_image=inp.zenml_image,
        )
        try:
            fields = await run_child_job(
                workflow_name,
                child_in,
                job_id=child_id,
                operation=operation,
                subject=None,
                labels={CUSTOMER_LABEL: inp.prefix},
                result_type=dict,
            )
        except ChildWorkflowError as error:
            if _cancelled(error) and workflow.cancellation_reason() is not None:
                # This job is cancelled: the saga undoes everything.
                raise
            # The branch failed, or was cancelled on its own: it undid itself, the others go on.
            reason = "cancelled by request" if _cancelled(error) else failure_message(error)
            self.tracker.log(f"{branch} provisioning failed and was undone: {reason}")
            await self._record(inp, branch, "failed", reason, {})
            return {"job_id": child_id, "status": "failed", "reason": reason}
        await self._record(inp, branch, "ready", None, fields)
        self.tracker.log(f"{branch} provisioning is ready (job {child_id})")
        return {"job_id": child_id, "status": "ready", "reason": None}

    async def _record(self, inp, branch: str, status: str, reason: str | None, fields) -> None:
        outcome = BranchOutcome(
            customer_id=inp.customer_id, branch=branch, status=status, reason=reason, fields=fields
        )
        await step(CustomerSteps.RECORD_BRANCH, outcome, bool, start_to_close=timedelta(seconds=30))

    async def _undo_branch(self, inp: OnboardCustomerInput, branch: str, child_id: str) -> None:
        """What a completed branch made (a branch that failed or was cancelled undid itself, and
        these steps then find nothing of its job)."""
        if workflow.patched(BRANCH_UNDO_BY_CLEANUP_PATCH):
            await step(
                CustomerSteps.CLEANUP_AFTER_TERMINATE,
                JobCleanupInput(job_id=child_id),
                JobCleanupResult,
                start_to_close=timedelta(minutes=10),
            )
            return
        mine = OwnedStep(prefix=inp.prefix, owner_job=child_id)
        if branch == "jira":
            await step(
                CustomerJiraSteps.REMOVE,
                JiraRemoveInput(prefix=inp.prefix, owner_job=child_id),
                bool,
                start_to_close=timedelta(minutes=5),
            )
        elif branch == "litellm":
            await step(
                CustomerLiteLLMSteps.REMOVE,
                LiteLLMRemoveInput(prefix=inp.prefix, owner_job=child_id),
                bool,
                start_to_close=timedelta(minutes=1),
            )
        else:
            service = CustomerNames(inp.prefix).zenml_service
            deleted = await step(
                CloudRunSteps.DELETE_SERVICE,
                DeleteServiceInput(
                    service_name=service,
                    region=inp.region,
                    only_if_applied_by=f"{child_id}-deploy",
                ),
                bool,
                start_to_close=timedelta(minutes=10),
            )
            if deleted:
                call = CloudRunCall(service_name=service, region=inp.region)
                await step(
                    RegistrySteps.REMOVE_SERVICE, call, bool, start_to_close=timedelta(seconds=30)
                )
            await step(
                CustomerZenMLSteps.REMOVE_DATABASE, mine, bool, start_to_close=timedelta(minutes=2)
            )
            await step(
                CustomerZenMLSteps.DELETE_SECRETS,
                mine,
                list[str],
                start_to_close=timedelta(minutes=1),
            )
