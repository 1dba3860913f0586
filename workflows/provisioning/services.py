"""DeployService and UndeployService: Cloud Run deploys with access policy, registry and compensation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.jobs import CUSTOMER_LABEL, SERVICE_LABEL, JobSubject
    from contracts.provisioning.names import CloudRunSteps, Operations, RegistrySteps, Workflows
    from contracts.provisioning.services import (
        ApplyServiceInput,
        CheckPlanInput,
        CloudRunCall,
        CloudRunServiceResult,
        DeleteServiceInput,
        DeployServiceInput,
        IamPolicyInput,
        RestoreInvokersInput,
        RestoreServiceInput,
        ServiceRecordInput,
        UndeployServiceInput,
    )

from workflows.job import TrackedJob
from workflows.saga import Saga
from workflows.steps import step, step_to_the_end
from workflows.tracking import JobTracker

# One attempt of each step, per its work: a write of the platform's registry, a Cloud Run read or
# IAM policy call, a Cloud Run apply or delete (a long-running operation: a revision rolling out).
_REGISTRY = timedelta(seconds=30)
_CLOUD_RUN_READ = timedelta(minutes=1)
_CLOUD_RUN_APPLY = timedelta(minutes=10)
# Deploys applied with a plan_hash first check that the live service still matches the plan.
PLAN_CHECK_PATCH = "deploy-checks-plan-hash"
STALE_PLAN = "stale plan"


def service_job(operation: str, service_name: str, customer_prefix: str | None) -> JobTracker:
    return JobTracker(
        operation,
        JobSubject(kind="service", name=service_name),
        {SERVICE_LABEL: service_name, CUSTOMER_LABEL: customer_prefix or ""},
    )


class ServiceJob(TrackedJob):
    async def resolve_customer(self, service_name: str, region: str) -> str | None:
        """The job's customer: named in the request, or found from the service name by the worker
        (so the API's request path needs no database read)."""
        known = self.tracker.state.labels.get(CUSTOMER_LABEL)
        if known:
            return known
        if not workflow.patched("customer-resolved-in-workflow"):
            return None
        prefix = await step(
            RegistrySteps.CUSTOMER_FOR_SERVICE,
            CloudRunCall(service_name=service_name, region=region),
            str | None,
            start_to_close=_REGISTRY,
        )
        if prefix:
            self.tracker.label(CUSTOMER_LABEL, prefix, f"service belongs to customer {prefix}")
        return prefix


@workflow.defn(name=Workflows.DEPLOY_SERVICE)
class DeployService(ServiceJob):
    @workflow.init
    def __init__(self, inp: DeployServiceInput) -> None:
        self.tracker = service_job(inp.operation, inp.spec.service_name, inp.customer_prefix)

    @workflow.run
    async def run(self, inp: DeployServiceInput) -> dict[str, Any]:
        return await self.run_saga(lambda saga: self._deploy(inp, saga))

    async def _deploy(self, inp: DeployServiceInput, saga: Saga) -> dict[str, Any]:
        spec, region = inp.spec, inp.region
        call = CloudRunCall(service_name=spec.service_name, region=region)
        track = self.tracker
        # Every undo touches the service only while it is as this job left it (its job label).
        job_id = workflow.info().workflow_id

        if inp.plan_hash is not None and workflow.patched(PLAN_CHECK_PATCH):
            await self._check_plan(inp)
        track.phase("checking", 10, f"looking up service {spec.service_name} in {region}")
        customer_prefix = await self.resolve_customer(spec.service_name, region)
        existing = await step(
            CloudRunSteps.GET_SERVICE,
            call,
            CloudRunServiceResult | None,
            start_to_close=_CLOUD_RUN_READ,
        )
        if existing is None and inp.operation == Operations.UPDATE:
            raise ApplicationError(
                f"service {spec.service_name} does not exist", type="NotFound", non_retryable=True
            )

        if existing is not None:
            previous = RestoreServiceInput(
                region=region,
                service_json=existing.previous_json or "",
                only_if_applied_by=job_id,
            )
            saga.on_failure(
                "restore the previous configuration",
                lambda: self._undo(CloudRunSteps.RESTORE_SERVICE, previous),
            )
            track.phase("updating", 30, f"updating service {spec.service_name}")
        else:
            created = DeleteServiceInput(**call.model_dump(), only_if_applied_by=job_id)
            saga.on_failure(
                "delete the new service",
                lambda: self._undo(CloudRunSteps.DELETE_SERVICE, created),
            )
            track.phase("creating", 30, f"creating service {spec.service_name}")
        applied = await step(
            CloudRunSteps.APPLY_SERVICE,
            ApplyServiceInput(spec=spec, region=region, create=existing is None),
            CloudRunServiceResult,
            start_to_close=_CLOUD_RUN_APPLY,
        )
        track.log(f"revision {applied.latest_revision} is ready at {applied.uri}")

        public = spec.allow_public_access
        if public is None and existing is None:
            public = False
        invokers: list[str] | None = None  # left as they were: the record keeps the earlier ones
        if public is not None:
            track.phase("configuring access", 70, "public access" if public else "private access")
            if existing is not None:
                before = await step(
                    CloudRunSteps.GET_INVOKERS, call, list[str], start_to_close=_CLOUD_RUN_READ
                )
                restore = RestoreInvokersInput(
                    service_name=spec.service_name,
                    region=region,
                    members=before,
                    only_if_applied_by=job_id,
                )
                saga.on_failure(
                    "restore the access policy",
                    lambda: self._undo(CloudRunSteps.RESTORE_INVOKERS, restore),
                )
            invokers = await step(
                CloudRunSteps.SET_INVOKERS,
                IamPolicyInput(service_name=spec.service_name, region=region, public=public),
                list[str],
                start_to_close=_CLOUD_RUN_READ,
            )

        track.phase("registering", 90, "recording the service in the platform registry")
        if existing is None:
            saga.on_failure(
                "remove the registry entry",
                lambda: step(RegistrySteps.REMOVE_SERVICE, call, start_to_close=_REGISTRY),
            )
        await step(
            RegistrySteps.UPSERT_SERVICE,
            ServiceRecordInput(
                service_name=spec.service_name,
                region=region,
                url=applied.uri,
                image=applied.image,
                customer_prefix=customer_prefix,
                labels=spec.labels or {},
                deployed_at=workflow.now(),
                applied_json=applied.applied_json,
                invokers=invokers,
            ),
            start_to_close=_REGISTRY,
        )
        return self.tracker.complete(
            {
                "service_name": spec.service_name,
                "region": region,
                "url": applied.uri,
                "revision": applied.latest_revision,
                "image": applied.image,
                "created": existing is None,
                "public_access": public,
            },
            f"service {spec.service_name} {'created' if existing is None else 'updated'}",
        )

    async def _check_plan(self, inp: DeployServiceInput) -> None:
        """The job's first step once it has its turn on the service: the plan it was given must
        still be what applying it would do now, else it fails before changing anything."""
        self.tracker.phase("checking plan", 5, f"checking plan {inp.plan_hash[:12]}")
        now = await step(
            CloudRunSteps.PLAN_HASH,
            CheckPlanInput(spec=inp.spec, region=inp.region, plan_hash=inp.plan_hash),
            str,
            start_to_close=_CLOUD_RUN_READ,
        )
        if now != inp.plan_hash:
            raise ApplicationError(
                f"{STALE_PLAN}: service {inp.spec.service_name} changed since plan "
                f"{inp.plan_hash[:12]} was made (now {now[:12]}); plan again",
                type="StalePlan",
                non_retryable=True,
            )
        self.tracker.log(f"plan {inp.plan_hash[:12]} still matches the live service")

    async def _undo(self, activity: str, arg: object) -> None:
        # False: the service is gone or no longer as this job left it (another job created or
        # changed it), so there is nothing of this job's to undo. Older workers returned nothing.
        if await step(activity, arg, bool | None, start_to_close=_CLOUD_RUN_APPLY) is False:
            self.tracker.log("nothing to undo: the service is not as this job left it")


@workflow.defn(name=Workflows.UNDEPLOY_SERVICE)
class UndeployService(ServiceJob):
    @workflow.init
    def __init__(self, inp: UndeployServiceInput) -> None:
        self.tracker = service_job(Operations.UNDEPLOY, inp.service_name, inp.customer_prefix)

    @workflow.run
    async def run(self, inp: UndeployServiceInput) -> dict[str, Any]:
        return await self.run_saga(lambda _saga: self._undeploy(inp))

    async def _undeploy(self, inp: UndeployServiceInput) -> dict[str, Any]:
        call = CloudRunCall(service_name=inp.service_name, region=inp.region)
        track = self.tracker
        track.phase("checking", 10, f"looking up service {inp.service_name} in {inp.region}")
        await self.resolve_customer(inp.service_name, inp.region)
        existing = await step(
            CloudRunSteps.GET_SERVICE,
            call,
            CloudRunServiceResult | None,
            start_to_close=_CLOUD_RUN_READ,
        )
        if existing is None:
            raise ApplicationError(
                f"service {inp.service_name} does not exist in {inp.region}",
                type="NotFound",
                non_retryable=True,
            )
        # A deletion cannot be undone, and one stopped half-way leaves a service that is neither
        # there nor gone: once started it runs to the end and the registry follows it.
        track.on_cancel(
            "the deletion already started runs to the end and the service is not restored"
        )
        track.phase("deleting", 40, f"deleting service {inp.service_name}")
        _deleted, cancel_requested = await step_to_the_end(
            CloudRunSteps.DELETE_SERVICE, call, bool, start_to_close=_CLOUD_RUN_APPLY
        )
        if cancel_requested:
            track.log(
                "cancel requested during the deletion: a deletion cannot be stopped, finishing"
            )
        track.phase("unregistering", 90, "removing the service from the platform registry")
        # The registry follows the deletion even if the cancel comes now.
        _removed, cancel_during_removal = await step_to_the_end(
            RegistrySteps.REMOVE_SERVICE, call, bool, start_to_close=_REGISTRY
        )
        cancel_requested = cancel_requested or cancel_during_removal
        return track.complete(
            {
                "service_name": inp.service_name,
                "region": inp.region,
                "deleted": True,
                "cancel_ignored": cancel_requested,
            },
            f"service {inp.service_name} deleted",
        )
