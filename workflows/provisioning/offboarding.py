"""OffboardCustomer (seed 000 §3.8), a job on the customer (`customer:<prefix>`): it waits for a
running onboarding of the same customer, then removes, each step treating "already gone" as done,
the customer's agents, the Jira project and organization, the LiteLLM user and keys, the ZenML
service, database and user, its runtime service account, every secret of the customer, then the
record. Each removal touches only what carries the customer's ownership mark: what the record
names without it is unlinked with the record and reported in `not_owned`, never deleted. Removals cannot be undone, so a cancel lets the running step end and the job runs to its
end; a retried DELETE resumes whatever is left.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.exceptions import ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from contracts.jobs import CUSTOMER_LABEL, SERVICE_LABEL
    from contracts.provisioning.customers import (
        CUSTOMER_SERVICE_LABEL,
        AgentService,
        CustomerNames,
        CustomerSecretsInput,
        CustomerView,
        JiraRemoveInput,
        LiteLLMRemoveInput,
        OffboardCustomerInput,
        OwnedRecord,
        OwnedStep,
    )
    from contracts.provisioning.names import (
        CloudRunSteps,
        CustomerJiraSteps,
        CustomerLiteLLMSteps,
        CustomerSteps,
        CustomerZenMLSteps,
        Operations,
        RegistrySteps,
        Workflows,
    )
    from contracts.provisioning.services import CloudRunCall, DeleteServiceInput

from workflows.child_jobs import run_child_job
from workflows.job import TrackedJob
from workflows.provisioning.customer_branches import RUNTIME_ACCOUNT_PATCH
from workflows.provisioning.customers import customer_job
from workflows.saga import failure_message
from workflows.steps import step_to_the_end

T = TypeVar("T")


@workflow.defn(name=Workflows.OFFBOARD_CUSTOMER)
class OffboardCustomer(TrackedJob):
    @workflow.init
    def __init__(self, inp: OffboardCustomerInput) -> None:
        self.tracker = customer_job(Operations.OFFBOARD_CUSTOMER, inp.prefix)

    @workflow.run
    async def run(self, inp: OffboardCustomerInput) -> dict[str, Any]:
        return await self.run_saga(lambda _saga: self._offboard(inp))

    async def _finish(
        self,
        activity: str,
        arg: Any,
        result_type: type[T] | None = None,
        *,
        start_to_close: timedelta,
    ) -> T:
        result, cancel_requested = await step_to_the_end(
            activity, arg, result_type, start_to_close=start_to_close
        )
        if cancel_requested:
            self.tracker.log("cancel requested: removals cannot be undone, finishing")
        return result

    async def _delete_service(self, call: CloudRunCall, mark: dict[str, str] | None) -> None:
        """The Cloud Run service (only while it carries `mark`), then its registry row; either
        already gone is done."""
        await self._finish(
            CloudRunSteps.DELETE_SERVICE,
            DeleteServiceInput(**call.model_dump(), only_if_labelled=mark),
            bool,
            start_to_close=timedelta(minutes=10),
        )
        await self._finish(
            RegistrySteps.REMOVE_SERVICE, call, bool, start_to_close=timedelta(seconds=30)
        )

    async def _offboard(self, inp: OffboardCustomerInput) -> dict[str, Any]:
        track = self.tracker
        names = CustomerNames(inp.prefix)
        track.on_cancel("offboarding runs to its end: what is removed cannot be restored")
        track.phase("reading", 5, f"reading customer {inp.prefix}")
        view = await self._finish(
            CustomerSteps.LOAD,
            inp.customer_id,
            CustomerView | None,
            start_to_close=timedelta(seconds=30),
        )
        if view is None:
            return track.complete(
                {"customer_id": inp.customer_id, "prefix": inp.prefix, "already_gone": True},
                f"customer {inp.prefix} was already offboarded",
            )
        for reference in view.not_owned:
            track.log(f"{reference} lacks the customer's mark: unlinked, not deleted")
        await self._finish(
            CustomerSteps.DEACTIVATE, inp.customer_id, bool, start_to_close=timedelta(seconds=30)
        )

        track.phase("agents", 15, "retiring the customer's agents")
        agents = await self._finish(
            CustomerSteps.LIST_AGENTS,
            inp.customer_id,
            list[AgentService],
            start_to_close=timedelta(seconds=30),
        )
        for agent in agents:
            await self._retire(inp, agent)

        track.phase("jira", 35, f"deleting Jira project {names.jira_project_key}")
        await self._finish(
            CustomerJiraSteps.REMOVE,
            JiraRemoveInput(
                prefix=inp.prefix,
                organization_id=view.jira_group_id,
                project_key=view.jira_project_key,
                onboarding_job=view.onboarding_job_id,
            ),
            bool,
            start_to_close=timedelta(minutes=5),
        )

        user_id = view.litellm_user_id or names.litellm_user_id
        track.phase("litellm", 50, f"deleting LiteLLM user {user_id} and its keys")
        await self._finish(
            CustomerLiteLLMSteps.REMOVE,
            LiteLLMRemoveInput(prefix=inp.prefix, user_id=view.litellm_user_id),
            bool,
            start_to_close=timedelta(minutes=1),
        )

        service = view.zenml_workspace_id or names.zenml_service
        track.phase("zenml", 65, f"deleting ZenML server {service} and its database")
        await self._delete_service(
            CloudRunCall(service_name=service, region=inp.region),
            {CUSTOMER_SERVICE_LABEL: inp.prefix},
        )
        await self._finish(
            CustomerZenMLSteps.REMOVE_DATABASE,
            OwnedStep(prefix=inp.prefix),
            bool,
            start_to_close=timedelta(minutes=2),
        )
        if workflow.patched(RUNTIME_ACCOUNT_PATCH):
            track.log(f"deleting service account {names.zenml_service_account}")
            await self._finish(
                CustomerZenMLSteps.DELETE_RUNTIME_ACCOUNT,
                OwnedStep(prefix=inp.prefix),
                bool,
                start_to_close=timedelta(minutes=1),
            )

        track.phase("secrets", 85, "deleting every secret of the customer")
        named = [
            names.litellm_key_secret,
            *names.zenml_secrets,
            *(s for s in (view.litellm_api_key_secret, view.zenml_credentials_secret) if s),
        ]
        deleted = await self._finish(
            CustomerSteps.DELETE_SECRETS,
            CustomerSecretsInput(prefix=inp.prefix, extra_names=named),
            list[str],
            start_to_close=timedelta(seconds=30),
        )

        track.phase("record", 95, "deleting the customer record")
        await self._finish(
            CustomerSteps.DELETE_RECORD,
            OwnedRecord(customer_id=inp.customer_id),
            bool,
            start_to_close=timedelta(seconds=30),
        )
        return track.complete(
            {
                "customer_id": inp.customer_id,
                "prefix": inp.prefix,
                "agents_retired": [a.service_name for a in agents],
                "secrets_deleted": deleted,
                "not_owned": view.not_owned,
            },
            f"customer {inp.prefix} offboarded",
        )

    async def _retire(self, inp: OffboardCustomerInput, agent: AgentService) -> None:
        """A RetireAgent child job per agent (its service, secret and LiteLLM key). Shielded: once
        started it runs to its end whatever comes."""
        child_id = f"{workflow.info().workflow_id}-retire-{agent.service_name}"
        self.tracker.log(f"retiring agent {agent.service_name} (job {child_id})")
        retire = asyncio.ensure_future(
            run_child_job(
                Workflows.RETIRE_AGENT,
                # By name and as plain data: the agents' own contract reads it.
                {"service_name": agent.service_name, "region": agent.region},
                job_id=child_id,
                operation=Operations.RETIRE_AGENT,
                subject=None,
                labels={SERVICE_LABEL: agent.service_name, CUSTOMER_LABEL: inp.prefix},
                result_type=dict,
            )
        )
        try:
            try:
                await asyncio.shield(retire)
            except asyncio.CancelledError:
                await retire
        except ChildWorkflowError as error:
            # The agent's job could not retire it: its service still goes while it carries the
            # customer's mark, as "already gone" is done for every step of an offboarding.
            self.tracker.log(
                f"retiring {agent.service_name} failed ({failure_message(error)}); "
                "deleting its service"
            )
            await self._delete_service(
                CloudRunCall(service_name=agent.service_name, region=agent.region),
                {CUSTOMER_SERVICE_LABEL: inp.prefix},
            )
