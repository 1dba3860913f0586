"""Every job publishes its outcome as a webhook event, here, at the root of the job machinery
(`TrackedJob` and its failure hold), so each system's jobs do it alike: `job.completed`,
`job.failed`, `job.needs_attention` (held for an operator), `job.compensation_failed`.

A short activity (`platform.publish_event`, served by every worker on every queue) starts the
event's deliveries (a regular activity: the SDK's local activities panic in its core when a worker
shuts down with their timeout pending); it never fails the job (a publish that fails is logged in the job and dropped: the
delivery, not the publishing, is what retries for a day). Under the `job-outcome-events` patch,
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


async def publish_job_event(tracker: JobTracker, kind: str, suffix: str = "") -> None:
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
    try:
        await workflow.execute_activity(
            PUBLISH_EVENT,
            event,
            result_type=Published,
            start_to_close_timeout=_PUBLISH,
            schedule_to_close_timeout=_PUBLISH_IN_ALL,
            retry_policy=RetryPolicy(maximum_attempts=3, initial_interval=timedelta(seconds=1)),
        )
    except ActivityError as error:
        tracker.log(f"the {kind} event was not published: {error.cause or error}")
