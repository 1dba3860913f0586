"""Child jobs: a workflow starting another job workflow as its child, so the child is a job like any
other (listed, queryable, cancellable, with its own job id) and appears under its parent in the
Temporal UI, on its own system's task queue. Domain-free: callers name the workflow, its input,
subject and labels."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from workflows.steps import job_start

with workflow.unsafe.imports_passed_through():
    from contracts.jobs import JobStart, JobSubject
    from contracts.task_queues import child_queue
    from contracts.workflow_timeouts import timeouts_for
    from temporal import search_attributes as sa

T = TypeVar("T")


async def run_child_job(
    workflow_name: str,
    arg: Any,
    *,
    job_id: str,
    operation: str,
    subject: JobSubject | None,
    labels: dict[str, str] | None = None,
    result_type: type[T] | None = None,
    execution_timeout: timedelta | None = None,
) -> T:
    """Runs the child to its end and returns its result. The child gets what the API gives a job it
    starts (search attributes, the parent's step-retry window, failure policy and starter), so listings and the jobs API treat
    it as a job. A cancel of the parent reaches the child, which compensates before it ends; the
    parent's await then raises and the parent compensates what it did itself."""
    known = {key: value for key, value in (labels or {}).items() if value}
    attributes = [
        SearchAttributePair(sa.OPERATION, operation),
        SearchAttributePair(sa.CREATED_AT, workflow.now()),
    ]
    if subject is not None:
        attributes.append(SearchAttributePair(sa.SUBJECT, subject.key))
    if known:
        attributes.append(SearchAttributePair(sa.LABELS, sa.label_values(known)))
    # The parent's start as the child's: its retry window, its failure policy (a parent started
    # with `X-Job-On-Failure: hold` holds in whichever of its jobs a step fails for good, where an
    # operator retries that step) and the key that started it (which may start the child afresh).
    parent = job_start()
    memo = JobStart(
        step_retry=parent.step_retry, on_failure=parent.on_failure, started_by=parent.started_by
    ).memo()
    info = workflow.info()
    return await workflow.execute_child_workflow(
        workflow_name,
        arg,
        id=job_id,
        # A child of another system runs on that system's queue (its workers have its activities);
        # one of the parent's own system stays on the parent's queue, as every child did before.
        task_queue=child_queue(info.task_queue, info.workflow_type, workflow_name),
        result_type=result_type,
        search_attributes=TypedSearchAttributes(attributes),
        memo=memo,
        # The child's type's own last resort, as the API gives a job it starts.
        execution_timeout=execution_timeout or timeouts_for(workflow_name).execution,
        static_summary=f"{operation} {subject.name if subject else ''}".strip(),
    )
