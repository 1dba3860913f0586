"""Jobs started by a job: a child workflow that is a job of its own (its own id, listed and filtered
like one the API started: operation, phase, subject, labels, created_at), with the parent's step
retry window. A cancel of the parent reaches the child, and the parent waits for the child's own
compensation to end (the SDK's default WAIT_CANCELLATION_COMPLETED)."""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes

with workflow.unsafe.imports_passed_through():
    from contracts.jobs import STEP_RETRY_MEMO_KEY, JobSubject
    from temporal import search_attributes as sa


def _attributes(
    operation: str, subject: JobSubject | None, labels: dict[str, str]
) -> TypedSearchAttributes:
    pairs = [
        SearchAttributePair(sa.OPERATION, operation),
        SearchAttributePair(sa.JOB_PHASE, "queued"),
        SearchAttributePair(sa.CREATED_AT, workflow.now()),
    ]
    if subject is not None:
        pairs.append(SearchAttributePair(sa.SUBJECT, subject.key))
    known = {key: value for key, value in labels.items() if value}
    if known:
        pairs.append(SearchAttributePair(sa.LABELS, sa.label_values(known)))
    return TypedSearchAttributes(pairs)


async def run_child_job(
    workflow_name: str,
    arg: Any,
    *,
    job_id: str,
    operation: str,
    subject: JobSubject | None = None,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Runs the child job to its end and returns its result; its failure raises ChildWorkflowError."""
    retry = workflow.memo_value(STEP_RETRY_MEMO_KEY, default=None)
    return await workflow.execute_child_workflow(
        workflow_name,
        arg,
        id=job_id,
        result_type=dict,
        search_attributes=_attributes(operation, subject, labels or {}),
        memo={STEP_RETRY_MEMO_KEY: retry} if retry is not None else None,
        static_summary=f"{operation} {subject.name if subject else ''}".strip(),
    )
