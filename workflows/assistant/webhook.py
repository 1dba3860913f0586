"""WebhookDelivery: one event to one webhook, durably. Each attempt is an activity (it signs and
POSTs the event through the outbound guard, and records itself); a failed attempt is tried again
after a wait that doubles from `retry_initial_seconds` up to `retry_max_seconds`, until
`retry_for_seconds` have passed since the first (a day by default). The waits are the workflow's
timers, so a delivery survives any restart. Its workflow id is the delivery id receivers see.

A job like any other in listings (operation `webhook_delivery`), but it publishes no job events
itself: a delivery's outcome is its attempts (`GET /api/webhooks/{id}/deliveries`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from contracts.assistant.names import Operations, WebhookSteps, Workflows
    from contracts.assistant.webhooks import (
        AttemptOutcome,
        AttemptRequest,
        DeliveryInput,
        DeliveryResult,
    )

from workflows.job import TrackedJob
from workflows.tracking import JobTracker

_ATTEMPT = timedelta(minutes=2)


@workflow.defn(name=Workflows.WEBHOOK_DELIVERY)
class WebhookDelivery(TrackedJob):
    publishes_events = False

    @workflow.init
    def __init__(self, inp: DeliveryInput) -> None:
        self.tracker = JobTracker(
            Operations.WEBHOOK_DELIVERY, None, {"webhook": inp.webhook_id, "event": inp.event.type}
        )

    @workflow.run
    async def run(self, inp: DeliveryInput) -> dict[str, Any]:
        return await self.run_saga(lambda saga: self._deliver(inp))

    async def _deliver(self, inp: DeliveryInput) -> dict[str, Any]:
        track = self.tracker
        delivery_id = workflow.info().workflow_id
        first = workflow.now()
        wait = inp.retry_initial_seconds
        attempt = 0
        while True:
            attempt += 1
            track.phase("delivering", min(10 + attempt * 5, 90), f"attempt {attempt}")
            # One try per attempt: the workflow's own backoff, recorded attempt by attempt, is
            # the retry (an activity that could not even record itself is retried by Temporal).
            outcome = await workflow.execute_activity(
                WebhookSteps.ATTEMPT,
                AttemptRequest(
                    delivery_id=delivery_id,
                    webhook_id=inp.webhook_id,
                    attempt=attempt,
                    event=inp.event,
                ),
                result_type=AttemptOutcome,
                start_to_close_timeout=_ATTEMPT,
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
            )
            if outcome.outcome != "failed":
                break
            elapsed = (workflow.now() - first).total_seconds()
            if elapsed + wait > inp.retry_for_seconds:
                track.log(f"giving up after {attempt} attempt(s): {outcome.error}")
                break
            track.log(f"attempt {attempt} failed ({outcome.error}); next in {wait:g} s")
            await workflow.sleep(timedelta(seconds=wait))
            wait = min(wait * 2, inp.retry_max_seconds)
        result = DeliveryResult(delivery_id=delivery_id, status=outcome.outcome, attempts=attempt)
        return track.complete(result.model_dump(), f"{outcome.outcome} after {attempt} attempt(s)")
