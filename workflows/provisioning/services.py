"""DeployService and UndeployService: Cloud Run deploys with access policy, registry and compensation."""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.provisioning.services import (
        ApplyServiceInput,
        CloudRunCall,
        CloudRunServiceResult,
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


@workflow.defn
class DeployService(TrackedJob):
    @workflow.init
    def __init__(self, inp: DeployServiceInput) -> None:
        self.tracker = JobTracker(inp.operation, inp.spec.service_name, inp.customer_prefix)

    @workflow.run
    async def run(self, inp: DeployServiceInput) -> dict[str, Any]:
        return await self.run_saga(lambda saga: self._deploy(inp, saga))

    async def _deploy(self, inp: DeployServiceInput, saga: Saga) -> dict[str, Any]:
        spec, region = inp.spec, inp.region
        call = CloudRunCall(service_name=spec.service_name, region=region)
        track = self.tracker

        track.phase("checking", 10, f"looking up service {spec.service_name} in {region}")
        customer_prefix = await self.resolve_customer(spec.service_name, region)
        existing = await step("cloud_run.get_service", call, CloudRunServiceResult | None)
        if existing is None and inp.operation == "update":
            raise ApplicationError(
                f"service {spec.service_name} does not exist", type="NotFound", non_retryable=True
            )

        if existing is not None:
            previous = RestoreServiceInput(region=region, service_json=existing.previous_json or "")
            saga.on_failure(
                "restore the previous configuration",
                lambda: step("cloud_run.restore_service", previous),
            )
            track.phase("updating", 30, f"updating service {spec.service_name}")
        else:
            saga.on_failure(
                "delete the new service", lambda: step("cloud_run.delete_service", call)
            )
            track.phase("creating", 30, f"creating service {spec.service_name}")
        applied = await step(
            "cloud_run.apply_service",
            ApplyServiceInput(spec=spec, region=region, create=existing is None),
            CloudRunServiceResult,
        )
        track.log(f"revision {applied.latest_revision} is ready at {applied.uri}")

        public = spec.allow_public_access
        if public is None and existing is None:
            public = False
        if public is not None:
            track.phase("configuring access", 70, "public access" if public else "private access")
            if existing is not None:
                before = await step("cloud_run.get_invokers", call, list[str])
                restore = RestoreInvokersInput(
                    service_name=spec.service_name, region=region, members=before
                )
                saga.on_failure(
                    "restore the access policy", lambda: step("cloud_run.restore_invokers", restore)
                )
            await step(
                "cloud_run.set_invokers",
                IamPolicyInput(service_name=spec.service_name, region=region, public=public),
                list[str],
            )

        track.phase("registering", 90, "recording the service in the platform registry")
        if existing is None:
            saga.on_failure(
                "remove the registry entry", lambda: step("registry.remove_service", call)
            )
        await step(
            "registry.upsert_service",
            ServiceRecordInput(
                service_name=spec.service_name,
                region=region,
                url=applied.uri,
                image=applied.image,
                customer_prefix=customer_prefix,
                labels=spec.labels or {},
                deployed_at=workflow.now(),
            ),
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


@workflow.defn
class UndeployService(TrackedJob):
    @workflow.init
    def __init__(self, inp: UndeployServiceInput) -> None:
        self.tracker = JobTracker("undeploy", inp.service_name, inp.customer_prefix)

    @workflow.run
    async def run(self, inp: UndeployServiceInput) -> dict[str, Any]:
        return await self.run_saga(lambda _saga: self._undeploy(inp))

    async def _undeploy(self, inp: UndeployServiceInput) -> dict[str, Any]:
        call = CloudRunCall(service_name=inp.service_name, region=inp.region)
        track = self.tracker
        track.phase("checking", 10, f"looking up service {inp.service_name} in {inp.region}")
        await self.resolve_customer(inp.service_name, inp.region)
        existing = await step("cloud_run.get_service", call, CloudRunServiceResult | None)
        if existing is None:
            raise ApplicationError(
                f"service {inp.service_name} does not exist in {inp.region}",
                type="NotFound",
                non_retryable=True,
            )
        # A deletion cannot be undone, and one stopped half-way leaves a service that is neither
        # there nor gone: once started it runs to the end and the registry follows it.
        track.phase("deleting", 40, f"deleting service {inp.service_name}")
        _deleted, cancel_requested = await step_to_the_end("cloud_run.delete_service", call, bool)
        if cancel_requested:
            track.log(
                "cancel requested during the deletion: a deletion cannot be stopped, finishing"
            )
        track.phase("unregistering", 90, "removing the service from the platform registry")
        await step("registry.remove_service", call, bool)
        return track.complete(
            {
                "service_name": inp.service_name,
                "region": inp.region,
                "deleted": True,
                "cancel_ignored": cancel_requested,
            },
            f"service {inp.service_name} deleted",
        )
