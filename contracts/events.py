"""Names of the platform's event publishing that every worker serves: the activity that starts an
event's webhook deliveries, and the patch under which every job publishes its outcome
(`job.completed`, `job.failed`, `job.needs_attention`, `job.compensation_failed`)."""

from __future__ import annotations

PUBLISH_EVENT = "platform.publish_event"
JOB_EVENTS_PATCH = "job-outcome-events"
