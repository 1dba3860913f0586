"""Cloud Run side effects through the official run_v2 client: each activity is idempotent and heartbeats."""

from __future__ import annotations

import asyncio
import time
from typing import TypeVar

import structlog
from google.api_core import exceptions as gexc
from google.cloud import run_v2
from google.iam.v1 import policy_pb2
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.blocking import call_google, settle_in_thread
from contracts.provisioning.names import CloudRunSteps
from contracts.provisioning.services import (
    ApplyServiceInput,
    CheckPlanInput,
    CloudRunCall,
    CloudRunServiceResult,
    DeleteServiceInput,
    IamPolicyInput,
    RestoreInvokersInput,
    RestoreServiceInput,
)
from core.settings import Settings
from providers.google.cloud_run import INVOKER_ROLE, CloudRunServices, result_of
from providers.google.cloud_run_plan import invokers_for
from providers.google.cloud_run_spec import applied_by, apply_spec, for_create
from providers.google.errors import as_temporal_failures

log = structlog.get_logger(__name__)
T = TypeVar("T")
# How often a pending operation is polled; each poll is also a heartbeat, so cancel reaches us.
POLL_SECONDS = 0.5


class CloudRunActivities:
    def __init__(self, settings: Settings | None = None) -> None:
        self.cloud_run = CloudRunServices(settings)
        self.settings = self.cloud_run.settings

    async def _await_operation(self, operation_name: str, what: str) -> None:
        """Polls a long-running operation until done, heartbeating its name so a retry resumes it."""
        client = self.cloud_run.client
        started = time.monotonic()
        while True:
            activity.heartbeat(operation_name)
            operation = await call_google(
                what,
                client.get_operation,
                request={"name": operation_name},
                retry=None,
                beat=(operation_name,),
            )
            if operation.done:
                if operation.HasField("error"):
                    raise ApplicationError(
                        f"{what}: {operation.error.message} (code {operation.error.code})",
                        type="OperationFailed",
                        non_retryable=True,
                    )
                log.info(
                    "operation done",
                    operation=operation_name,
                    what=what,
                    seconds=round(time.monotonic() - started, 2),
                )
                return
            await asyncio.sleep(POLL_SECONDS)

    def _resumed_operation(self) -> str | None:
        details = activity.info().heartbeat_details
        return details[0] if details else None

    @activity.defn(name=CloudRunSteps.GET_SERVICE)
    async def get_service(self, call: CloudRunCall) -> CloudRunServiceResult | None:
        service = await call_google(
            f"reading service {call.service_name}",
            self.cloud_run.get,
            call.service_name,
            call.region,
        )
        if service is None:
            return None
        return result_of(service, call.region, previous_json=run_v2.Service.to_json(service))

    @activity.defn(name=CloudRunSteps.APPLY_SERVICE)
    async def apply_service(self, inp: ApplyServiceInput) -> CloudRunServiceResult:
        name, region = inp.spec.service_name, inp.region
        what = f"{'creating' if inp.create else 'updating'} service {name}"
        operation_name = self._resumed_operation()
        if operation_name is None:
            operation_name = await self._start_apply(inp, what)
        if operation_name is not None:
            await self._await_operation(operation_name, what)
        service = await call_google(what, self.cloud_run.get, name, region)
        if service is None:
            raise ApplicationError(f"{what}: service vanished", type="NotFound", non_retryable=True)
        return result_of(
            service, region, created=inp.create, applied_json=run_v2.Service.to_json(service)
        )

    async def _start_apply(self, inp: ApplyServiceInput, what: str) -> str | None:
        client, name, region = self.cloud_run.client, inp.spec.service_name, inp.region
        job_id = activity.info().workflow_id
        current = await call_google(what, self.cloud_run.get, name, region)
        if inp.create:
            if current is not None:
                if applied_by(current, job_id):
                    # An earlier attempt created it before dying: wait for it to settle, don't fail.
                    return await self._await_settled(name, region, what)
                raise ApplicationError(
                    f"{what}: a service named {name} already exists",
                    type="AlreadyExists",
                    non_retryable=True,
                )
            if not inp.spec.image:
                raise ApplicationError(
                    f"{what}: an image is required to create a service",
                    type="InvalidArgument",
                    non_retryable=True,
                )
            parent = self.cloud_run.path(name, region).rsplit("/services/", 1)[0]
            operation = await call_google(
                what,
                client.create_service,
                parent=parent,
                service=for_create(apply_spec(inp.spec, None, job_id)),
                service_id=name,
                retry=None,
            )
        else:
            if current is None:
                raise ApplicationError(
                    f"{what}: service {name} does not exist", type="NotFound", non_retryable=True
                )
            operation = await call_google(
                what,
                client.update_service,
                service=apply_spec(inp.spec, current, job_id),
                retry=None,
            )
        return operation.operation.name

    async def _await_settled(self, name: str, region: str, what: str) -> None:
        while True:
            activity.heartbeat()
            service = await call_google(what, self.cloud_run.get, name, region)
            if service is None or not service.reconciling:
                return None
            await asyncio.sleep(POLL_SECONDS)

    async def _still_applied_by(
        self, job_id: str | None, name: str, region: str, what: str
    ) -> tuple[bool, run_v2.Service | None]:
        """(go on, current service): a compensation goes on only while the service is as its job
        left it; a plain call (no job given) always goes on."""
        current = await call_google(what, self.cloud_run.get, name, region)
        if job_id is None or applied_by(current, job_id):
            return True, current
        log.info(
            "left alone: not as this job left it",
            what=what,
            job_id=job_id,
            found=None if current is None else dict(current.labels),
        )
        return False, current

    @staticmethod
    def _labelled(current: run_v2.Service | None, wanted: dict[str, str] | None, what: str) -> bool:
        """Whether the service carries every label of `wanted` (a tenant's mark); no mark asked
        for is always so."""
        if not wanted or current is None:
            return True
        if all(current.labels.get(k) == v for k, v in wanted.items()):
            return True
        log.info("left alone: not the owner's", what=what, found=dict(current.labels))
        return False

    @activity.defn(name=CloudRunSteps.RESTORE_SERVICE)
    async def restore_service(self, inp: RestoreServiceInput) -> bool:
        """Puts the previous configuration back; False when it was left alone (not this job's)."""
        previous = run_v2.Service.from_json(inp.service_json, ignore_unknown_fields=True)
        name = previous.name.rsplit("/", 1)[-1]
        what = f"restoring service {name}"
        operation_name = self._resumed_operation()
        if operation_name is None:
            go_on, current = await self._still_applied_by(
                inp.only_if_applied_by, name, inp.region, what
            )
            if not go_on:
                return False
            restored = run_v2.Service(previous)
            restored.etag = current.etag if current is not None else ""
            operation = await call_google(
                what,
                self.cloud_run.client.update_service,
                request={"service": restored, "allow_missing": True},
                retry=None,
            )
            operation_name = operation.operation.name
        await self._await_operation(operation_name, what)
        return True

    @activity.defn(name=CloudRunSteps.DELETE_SERVICE)
    async def delete_service(self, inp: DeleteServiceInput) -> bool:
        """Deletes the service; False when nothing was deleted (already gone, or not this job's)."""
        what = f"deleting service {inp.service_name}"
        operation_name = self._resumed_operation()
        if operation_name is None:
            go_on, current = await self._still_applied_by(
                inp.only_if_applied_by, inp.service_name, inp.region, what
            )
            if not go_on or not self._labelled(current, inp.only_if_labelled, what):
                return False
            request = {"name": self.cloud_run.path(inp.service_name, inp.region)}
            if (inp.only_if_applied_by or inp.only_if_labelled) and current is not None:
                # Refused if the service changed since it was checked, rather than deleted.
                request["etag"] = current.etag
            with as_temporal_failures(what):
                try:
                    operation = await settle_in_thread(
                        self.cloud_run.client.delete_service, request=request, retry=None
                    )
                except gexc.NotFound:
                    return False
            operation_name = operation.operation.name
        await self._await_operation(operation_name, what)
        return True

    @activity.defn(name=CloudRunSteps.GET_INVOKERS)
    async def get_invokers(self, call: CloudRunCall) -> list[str]:
        return await call_google(
            f"reading access policy of {call.service_name}",
            self.cloud_run.iam_members,
            call.service_name,
            call.region,
        )

    @activity.defn(name=CloudRunSteps.SET_INVOKERS)
    async def set_invokers(self, inp: IamPolicyInput) -> list[str]:
        members = self.invokers_for(inp.public)
        await self.write_invokers(inp.service_name, inp.region, members)
        return members

    @activity.defn(name=CloudRunSteps.RESTORE_INVOKERS)
    async def restore_invokers(self, inp: RestoreInvokersInput) -> bool:
        what = f"restoring the access policy of {inp.service_name}"
        go_on, _ = await self._still_applied_by(
            inp.only_if_applied_by, inp.service_name, inp.region, what
        )
        if go_on:
            await self.write_invokers(inp.service_name, inp.region, inp.members)
        return go_on

    def invokers_for(self, public: bool) -> list[str]:
        return invokers_for(self.settings, public)

    @activity.defn(name=CloudRunSteps.PLAN_HASH)
    async def plan_hash(self, inp: CheckPlanInput) -> str:
        """The digest of the plan `inp.spec` makes against the live service now (the same
        function as the API's dry run); the job compares it with the one it was given."""
        plan = await call_google(
            f"planning service {inp.spec.service_name}",
            self.cloud_run.plan,
            inp.spec,
            inp.region,
        )
        return plan.plan_hash

    async def write_invokers(self, name: str, region: str, members: list[str]) -> None:
        resource = self.cloud_run.path(name, region)
        what = f"setting access policy of {name}"
        policy = await call_google(
            what, self.cloud_run.client.get_iam_policy, request={"resource": resource}, retry=None
        )
        bindings = [b for b in policy.bindings if b.role != INVOKER_ROLE]
        if members:
            bindings.append(policy_pb2.Binding(role=INVOKER_ROLE, members=sorted(members)))
        new_policy = policy_pb2.Policy(bindings=bindings, etag=policy.etag)
        await call_google(
            what,
            self.cloud_run.client.set_iam_policy,
            request={"resource": resource, "policy": new_policy},
            retry=None,
        )
