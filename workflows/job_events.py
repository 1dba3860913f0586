"""Every job publishes its outcome as a webhook event, here, at the root of the job machinery
(`TrackedJob` and its failure hold), so each system's jobs do it alike: `job.completed`,
`job.failed`, `job.needs_attention` (held for an operator), `job.compensation_failed`.

A short activity (`platform.publish_event`, served by every worker on every queue) starts the
event's deliveries; it never fails the job (a publish that fails is logged in the job and dropped:
the delivery, not the publishing, is what retries for a day). A regular activity, but a local one
for a job whose steps run locally (its last workflow task then ends the job): an earlier attempt
with local activities for every job saw the SDK's core panic when a worker shut down with their
timeout pending, which did not happen again here with temporalio 1.35 (a worker shut down during a
local activity, and during its retry backoff). Under the `job-outcome-events` patch,
so jobs recorded before it replay unchanged. A job type that is itself part of the publishing (a
delivery) or a sweep nobody subscribes to sets `publishes_events = False`."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from contracts.assistant.webhooks import Event, Published
    from contracts.events import JOB_EVENTS_PATCH, PUBLISH_EVENT

from workflows.tracking import JobTracker

_PUBLISH = timedelta(seconds=10)
# A worker without the activity (an older one) must not keep the job open.
_PUBLISH_IN_ALL = timedelta(minutes=1)


async def publish_job_event(
    tracker: JobTracker, kind: str, suffix: str = "", local: bool = False
) -> None:
    """`local`: by a local activity, in the workflow task that ends the job (a job whose steps run
    locally, `TrackedJob.steps_run_locally`), instead of a round trip through the task queue."""
    instance = workflow.instance()
    if not getattr(instance, "publishes_events", True) or not workflow.patched(JOB_EVENTS_PATCH):
        return
    state = tracker.state
    info = workflow.info()
    event = Event(
        id=f"{state.job_id}:{kind}{suffix}",
        type=kind,
        created_at=workflow.now().isoformat(timespec="seconds").replace("+00:00", "Z"),
        data={
            "job_id": state.job_id,
            "operation": state.operation,
            "workflow_type": info.workflow_type,
            "subject": state.subject.key if state.subject else None,
            "phase": state.current_phase,
            "error": (state.error or "")[:500] or None,
        },
    )
    options = {
        "result_type": Published,
        "start_to_close_timeout": _PUBLISH,
        "schedule_to_close_timeout": _PUBLISH_IN_ALL,
        "retry_policy": RetryPolicy(maximum_attempts=3, initial_interval=timedelta(seconds=1)),
    }
    try:
        if local:
            await workflow.execute_local_activity(PUBLISH_EVENT, event, **options)
        else:
            await workflow.execute_activity(PUBLISH_EVENT, event, **options)
    except ActivityError as error:
        tracker.log(f"the {kind} event was not published: {error.cause or error}")
