"""ObserveDrift (run by its Schedule every `drift_observe_interval_minutes`): compares each Cloud Run
service the platform applied, then each hosting VM and Docker service, then each runner's container,
with what runs now, read-only, and records its conditions and drift (a new drift raises one alert).
ReconcileService: puts a service's last applied configuration back, taking its turn on the service
like a deploy or update, then observes it again; one that fails or is cancelled puts back the live
configuration it found (the drift stays until a reconcile completes)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.jobs import SERVICE_LABEL, JobSubject
    from contracts.provisioning.drift import (
        LiveService,
        Observed,
        ObserveInput,
        Reapplied,
        ReconcileServiceInput,
        RestoreLiveInput,
        ServiceRef,
    )
    from contracts.provisioning.names import DriftSteps, Operations, Workflows

from workflows.job import TrackedJob
from workflows.saga import Saga
from workflows.steps import step
from workflows.tracking import JobTracker

# A listing of Cloud Run per region and the platform's own table: seconds each.
_OBSERVE = timedelta(minutes=2)
_HEARTBEAT = timedelta(seconds=30)
# Runs added after histories without it were recorded: replays of those skip it.
_OBSERVE_RUNNERS_PATCH = "observe-drift-runners"
# A Cloud Run apply (a revision rolling out), as a deploy's; a read of one service.
_APPLY = timedelta(minutes=10)
_READ = timedelta(minutes=1)
# Reconciles started before it neither read the live configuration first nor put it back when they
# failed: replays of those skip both.
RECONCILE_UNDO_PATCH = "reconcile-puts-the-live-configuration-back"


@workflow.defn(name=Workflows.OBSERVE_DRIFT)
class ObserveDrift(TrackedJob):
    @workflow.init
    def __init__(self, inp: ObserveInput) -> None:
        # No subject: it changes no resource, only the platform's records of them.
        self.tracker = JobTracker(Operations.OBSERVE_DRIFT, None)

    @workflow.run
    async def run(self, inp: ObserveInput) -> dict[str, Any]:
        return await self.run_saga(lambda _saga: self._observe(inp))

    async def _observe(self, inp: ObserveInput) -> dict[str, Any]:
        self.tracker.phase("observing", 30, "comparing Cloud Run services with what was applied")
        seen = await step(
            DriftSteps.OBSERVE_SERVICES,
            inp,
            Observed,
            start_to_close=_OBSERVE,
            heartbeat=_HEARTBEAT,
        )
        self.tracker.phase("observing VMs", 70, "comparing hosting VMs with what was applied")
        vms = await step(
            DriftSteps.OBSERVE_VMS,
            inp,
            Observed,
            start_to_close=_OBSERVE,
            heartbeat=_HEARTBEAT,
        )
        self.tracker.phase(
            "observing Docker services",
            85,
            "comparing hosting Docker services with what was applied",
        )
        docker = await step(
            DriftSteps.OBSERVE_DOCKER_SERVICES,
            inp,
            Observed,
            start_to_close=_OBSERVE,
            heartbeat=_HEARTBEAT,
        )
        every = [seen, vms, docker]
        result = {
            "services": seen.model_dump(),
            "vms": vms.model_dump(),
            "docker": docker.model_dump(),
        }
        runners_seen = ""
        if workflow.patched(_OBSERVE_RUNNERS_PATCH):
            self.tracker.phase(
                "observing runners", 95, "comparing runner containers with what was applied"
            )
            runners = await step(
                DriftSteps.OBSERVE_RUNNERS,
                inp,
                Observed,
                start_to_close=_OBSERVE,
                heartbeat=_HEARTBEAT,
            )
            every.append(runners)
            result["runners"] = runners.model_dump()
            runners_seen = f", {runners.observed} runner(s)"
        return self.tracker.complete(
            result,
            f"{seen.observed} service(s), {vms.observed} VM(s), {docker.observed} Docker "
            f"service(s){runners_seen} observed, {sum(o.drifted_count for o in every)} drifted, "
            f"{sum(o.alerts_raised for o in every)} alert(s) raised",
        )


@workflow.defn(name=Workflows.RECONCILE_SERVICE)
class ReconcileService(TrackedJob):
    @workflow.init
    def __init__(self, inp: ReconcileServiceInput) -> None:
        self.tracker = JobTracker(
            Operations.RECONCILE,
            JobSubject(kind="service", name=inp.service_name),
            {SERVICE_LABEL: inp.service_name},
        )

    @workflow.run
    async def run(self, inp: ReconcileServiceInput) -> dict[str, Any]:
        return await self.run_saga(lambda saga: self._reconcile(inp, saga))

    async def _reconcile(self, inp: ReconcileServiceInput, saga: Saga) -> dict[str, Any]:
        track = self.tracker
        ref = ServiceRef(service_name=inp.service_name, region=inp.region)
        if workflow.patched(RECONCILE_UNDO_PATCH):
            await self._undo_registered(inp, ref, saga)
        track.phase(
            "reapplying", 30, f"putting the applied configuration of {inp.service_name} back"
        )
        # The job's heartbeat, as a deploy's apply: the step beats at each poll of its operation,
        # so an attempt on a lost worker moves on in seconds rather than half a minute.
        done = await step(DriftSteps.REAPPLY_SERVICE, inp, Reapplied, start_to_close=_APPLY)
        if done.changed:
            track.log(f"put back: {', '.join(done.fields[:20])}")
        else:
            track.log("nothing had drifted: left as it is")
        track.phase("observing", 90, "observing the service again")
        seen = await step(DriftSteps.OBSERVE_SERVICE, ref, Observed, start_to_close=_OBSERVE)
        return track.complete(
            {
                "service_name": inp.service_name,
                "region": inp.region,
                "reapplied_fields": done.fields,
                "changed": done.changed,
                "in_sync": seen.in_sync == 1,
            },
            f"service {inp.service_name} reconciled"
            if done.changed
            else f"service {inp.service_name} was in sync",
        )

    async def _undo_registered(
        self, inp: ReconcileServiceInput, ref: ServiceRef, saga: Saga
    ) -> None:
        """A reconcile is a change like an update: one that fails or is cancelled leaves the service
        as it found it (drifted: what an operator changed stays until a reconcile completes). So it
        reads the live configuration and access first, and its undo puts back what the reconcile
        changed of them (only while they are as it left them), then observes the service again, so
        the record says what runs."""
        saga.on_failure(
            "observe the service again",
            lambda: step(DriftSteps.OBSERVE_SERVICE, ref, Observed, start_to_close=_OBSERVE),
        )
        self.tracker.phase("checking", 10, f"reading the live configuration of {inp.service_name}")
        live = await step(DriftSteps.READ_LIVE, ref, LiveService, start_to_close=_READ)
        if live.service_json is None:
            return  # the reapply refuses a service that is gone, and changes nothing
        found = RestoreLiveInput(**ref.model_dump(), live=live, job_id=workflow.info().workflow_id)
        saga.on_failure("put back what it found", lambda: self._restore(found))

    async def _restore(self, found: RestoreLiveInput) -> None:
        put_back = await step(DriftSteps.RESTORE_LIVE, found, list[str], start_to_close=_APPLY)
        if put_back:
            self.tracker.log(f"put back as found: {', '.join(put_back)}")
        else:
            # The reconcile changed nothing (nothing had drifted, or it failed before), or
            # something changed the service since: nothing of this job's to put back.
            self.tracker.log("nothing to put back: the service is not as this job left it")
