"""The drift observer's and the reconcile job's activities: read what the platform last applied to
each Cloud Run service (`resource_states`, written by the deploy's registry step: the Service and
its invoker members) and what runs now, record the conditions and the drift, raise a
`resource_drifted` alert once per drift (announced as a webhook event), and put the applied
configuration and access policy back. Only services carrying the platform's mark are compared or
changed. Observing is read-only on Cloud Run; each activity is idempotent (an observation written
twice is the same observation, and a re-apply that finds nothing drifted changes nothing)."""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from google.cloud import run_v2
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.alert_events import AlertEvents
from activities.blocking import call_google
from activities.provisioning.cloud_run import CloudRunActivities
from contracts.provisioning.customers import CUSTOMER_SERVICE_LABEL
from contracts.provisioning.drift import (
    SERVICE_KIND,
    Condition,
    ConditionType,
    DriftEntry,
    LiveService,
    Observed,
    ObserveInput,
    Reapplied,
    ReconcileServiceInput,
    RestoreLiveInput,
    ServiceRef,
)
from contracts.provisioning.names import DriftSteps, Workflows
from contracts.provisioning.services import RestoreServiceInput
from core.settings import Settings
from providers.google.cloud_run_drift import access_drift, drift_of, managed, reapplied
from store.db import Database
from store.oversight import resource_states
from store.oversight.models import ResourceState

log = structlog.get_logger(__name__)
_STATE = run_v2.Condition.State


class DriftActivities(CloudRunActivities):
    def __init__(self, settings: Settings, db: Database, events: AlertEvents) -> None:
        super().__init__(settings)
        self.db = db
        self.events = events

    def all(self) -> list:
        return [
            self.observe_services,
            self.observe_service,
            self.reapply_service,
            self.read_live,
            self.restore_live,
        ]

    @activity.defn(name=DriftSteps.OBSERVE_SERVICES)
    async def observe_services(self, _: ObserveInput) -> Observed:
        async with self.db.transaction() as session:
            rows = [r for r in await resource_states.all_of(session, SERVICE_KIND) if r.applied]
        live: dict[tuple[str, str], run_v2.Service] = {}
        for region in sorted({row.region or self.settings.gcp_region for row in rows}):
            listed = await call_google(f"listing services in {region}", self.cloud_run.list, region)
            live.update({(region, s.name.rsplit("/", 1)[-1]): s for s in listed})
        result = Observed()
        for row in rows:
            region = row.region or self.settings.gcp_region
            service = live.get((region, row.name))
            # One read more per service, only for those whose access the platform recorded.
            invokers = None
            if row.applied_access is not None:
                invokers = await self._live_invokers(row.name, region, service)
            await self._observe(row.name, service, invokers, result)
        if result.drifted_count:
            log.warning("drift observed", services=result.drifted[:20], count=result.drifted_count)
        return result

    @activity.defn(name=DriftSteps.OBSERVE_SERVICE)
    async def observe_service(self, ref: ServiceRef) -> Observed:
        """One service, right after a reconcile put it back (so its conditions need not wait for
        the next period)."""
        service = await call_google(
            f"reading service {ref.service_name}", self.cloud_run.get, ref.service_name, ref.region
        )
        invokers = await self._live_invokers(ref.service_name, ref.region, service)
        result = Observed()
        await self._observe(ref.service_name, service, invokers, result)
        return result

    async def _live_invokers(
        self, name: str, region: str, live: run_v2.Service | None
    ) -> list[str] | None:
        """The live invoker members of a service carrying the platform's mark (None: gone, not
        the platform's, or gone between the listing and this read: the next period sees it)."""
        if live is None or not managed(live):
            return None
        try:
            return await call_google(
                f"reading access policy of {name}", self.cloud_run.iam_members, name, region
            )
        except ApplicationError as error:
            if error.type != "NotFound":
                raise
            return None

    async def _observe(
        self,
        name: str,
        live: run_v2.Service | None,
        invokers: list[str] | None,
        result: Observed,
    ) -> None:
        now = datetime.now(UTC)
        raised = None
        async with self.db.transaction() as session:
            row = await resource_states.get(session, SERVICE_KIND, name, for_update=True)
            if row is None or not row.applied:
                return  # undeployed meanwhile, or deployed before the platform recorded it
            result.observed += 1
            conditions, drift = _assess(row, live, invokers)
            if live is None:
                result.missing += 1
            elif not _owned(row, live):
                result.not_managed += 1
            elif drift:
                result.add_drifted(name)
            else:
                result.in_sync += 1
            raised = await resource_states.observed(
                session, row, conditions, drift, now, workflow_type=Workflows.OBSERVE_DRIFT
            )
        if raised is not None:
            result.alerts_raised += int(raised.fresh)
            await self.events.drift(raised)

    @activity.defn(name=DriftSteps.REAPPLY_SERVICE)
    async def reapply_service(self, inp: ReconcileServiceInput) -> Reapplied:
        """Puts the last applied configuration back on the live service, marked as changed by
        this job. Refused for good when nothing was recorded, the service is gone, or it does not
        carry the platform's (and its tenant's) mark."""
        name, region = inp.service_name, inp.region
        what = f"reconciling service {name}"
        async with self.db.transaction() as session:
            row = await resource_states.get(session, SERVICE_KIND, name)
        if row is None or not row.applied:
            raise ApplicationError(
                f"{what}: the platform has no applied configuration of it",
                type="NotFound",
                non_retryable=True,
            )
        applied = run_v2.Service.from_json(row.applied, ignore_unknown_fields=True)
        operation_name = self._resumed_operation()
        fields: list[str] = []
        if operation_name is None:
            live = await call_google(what, self.cloud_run.get, name, region)
            if live is None:
                raise ApplicationError(
                    f"{what}: service {name} does not exist", type="NotFound", non_retryable=True
                )
            if not _owned(row, live):
                raise ApplicationError(
                    f"{what}: the service does not carry the platform's mark; left alone",
                    type="NotOwned",
                    non_retryable=True,
                )
            fields = [entry.field for entry in drift_of(applied, live)]
            if fields:
                operation = await call_google(
                    what,
                    self.cloud_run.client.update_service,
                    service=reapplied(applied, live, activity.info().workflow_id),
                    retry=None,
                )
                operation_name = operation.operation.name
        if operation_name is not None:
            await self._await_operation(operation_name, what)
        # After the template: a retry resuming the update's operation puts the access back too.
        access = await self._reapply_access(row, name, region, what)
        changed = operation_name is not None or bool(access)
        fields += access
        if changed:
            log.info("service reconciled", service_name=name, fields=fields[:50])
        return Reapplied(service_name=name, region=region, fields=fields[:100], changed=changed)

    @activity.defn(name=DriftSteps.READ_LIVE)
    async def read_live(self, ref: ServiceRef) -> LiveService:
        """The service as the reconcile finds it, before it changes anything: what its undo puts
        back. Read-only."""
        name = ref.service_name
        service = await call_google(f"reading service {name}", self.cloud_run.get, name, ref.region)
        if service is None:
            return LiveService()
        return LiveService(
            service_json=run_v2.Service.to_json(service),
            invokers=await self._live_invokers(name, ref.region, service),
        )

    @activity.defn(name=DriftSteps.RESTORE_LIVE)
    async def restore_live(self, inp: RestoreLiveInput) -> list[str]:
        """A failed or cancelled reconcile's undo: puts back what it found, only what the reconcile
        itself changed and only while it is as the reconcile left it: the configuration while the
        service carries the reconcile's job mark, the invoker members while they are the applied
        ones the reconcile wrote (a change made since, by anyone, is left alone). What it put back
        (`configuration`, `access`); nothing when the reconcile changed nothing. Idempotent."""
        put_back = []
        if inp.live.service_json and await self.restore_service(
            RestoreServiceInput(
                region=inp.region,
                service_json=inp.live.service_json,
                only_if_applied_by=inp.job_id,
            )
        ):
            put_back.append("configuration")
        if inp.live.invokers is not None and await self._restore_access(inp, inp.live.invokers):
            put_back.append("access")
        return put_back

    async def _restore_access(self, inp: RestoreLiveInput, found: list[str]) -> bool:
        name, region = inp.service_name, inp.region
        what = f"putting back the access policy of {name}"
        async with self.db.transaction() as session:
            row = await resource_states.get(session, SERVICE_KIND, name)
        if row is None or row.applied_access is None:
            return False
        if not access_drift(row.applied_access, found):
            return False  # its access had not drifted: the reconcile wrote none
        live = await call_google(what, self.cloud_run.iam_members, name, region)
        if access_drift(row.applied_access, live):
            return False  # not as the reconcile leaves it (not reached yet, or changed since)
        await self.write_invokers(name, region, found)
        return True

    async def _reapply_access(
        self, row: ResourceState, name: str, region: str, what: str
    ) -> list[str]:
        """The invoker members as the deploy applied them, written the deploy's way
        (`write_invokers`, guarded by the policy's etag); nothing when the platform recorded none
        or they match already (idempotent)."""
        if row.applied_access is None:
            return []
        live = await call_google(what, self.cloud_run.iam_members, name, region)
        if not access_drift(row.applied_access, live):
            return []
        await self.write_invokers(name, region, row.applied_access)
        return [entry.field for entry in access_drift(row.applied_access, live)]


def _owned(row: ResourceState, live: run_v2.Service) -> bool:
    """The platform's mark, and no other tenant's: a service the record names but that lacks it
    (or carries another customer's mark) is reported, never compared or changed."""
    if not managed(live):
        return False
    tenant_mark = live.labels.get(CUSTOMER_SERVICE_LABEL)
    return tenant_mark is None or tenant_mark == row.tenant


def _assess(
    row: ResourceState, live: run_v2.Service | None, invokers: list[str] | None
) -> tuple[list[Condition], list[DriftEntry]]:
    def cond(kind: ConditionType, status: str, reason: str, message: str = "") -> Condition:
        return Condition(type=kind, status=status, reason=reason, message=message)

    if live is None:
        gone = "the service no longer exists in Cloud Run"
        entry = DriftEntry(field="service", applied="present", live=None)
        return [
            cond(ConditionType.ready, "False", "NotFound", gone),
            cond(ConditionType.synced, "False", "NotFound", gone),
            cond(ConditionType.drifted, "True", "Deleted", gone),
        ], [entry]
    ready = _ready(live)
    if not _owned(row, live):
        why = "the service no longer carries the platform's mark: not compared"
        return [
            ready,
            cond(ConditionType.synced, "False", "NotManaged", why),
            cond(ConditionType.drifted, "False", "NotCompared", why),
        ], []
    applied = run_v2.Service.from_json(row.applied, ignore_unknown_fields=True)
    drift = drift_of(applied, live) + access_drift(row.applied_access, invokers)
    if drift:
        fields = ", ".join(e.field for e in drift[:20])
        return [
            ready,
            cond(ConditionType.synced, "False", "Drifted", f"live differs from applied: {fields}"),
            cond(ConditionType.drifted, "True", "LiveDiffers", f"changed outside: {fields}"),
        ], drift
    return [
        ready,
        cond(ConditionType.synced, "True", "InSync", "live matches the last applied"),
        cond(ConditionType.drifted, "False", "MatchesApplied"),
    ], []


def _ready(live: run_v2.Service) -> Condition:
    condition = live.terminal_condition
    if live.reconciling:
        status, reason = "False", "Reconciling"
    elif condition.state == _STATE.CONDITION_SUCCEEDED:
        status, reason = "True", "Available"
    elif condition.state == _STATE.CONDITION_FAILED:
        status, reason = "False", "Failed"
    else:
        status, reason = "False", "Pending"
    return Condition(
        type=ConditionType.ready, status=status, reason=reason, message=condition.message or ""
    )
