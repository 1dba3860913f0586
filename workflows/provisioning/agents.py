"""DeployAgent (seed 000 §4.1, its nine phases) and RetireAgent (§4.4 with the cleanup the seed
says is missing): an AI agent as a Cloud Run service with its own LiteLLM key in Secret Manager.

The Cloud Run deploy is a child `DeployService` job (it applies the spec, the IAM policy and the
registry row, and undoes its own work if it fails or is cancelled). A failure or cancel of the
agent job removes what this job created: its key, the secret (or the versions it added to one that
existed), and the service its child created; a reused key and an older secret stay.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from contracts.jobs import CUSTOMER_LABEL, SERVICE_LABEL, JobSubject
    from contracts.provisioning.agents import (
        AGENT_LABEL,
        KEY_ENV_VAR,
        AgentCustomer,
        AgentDescription,
        AgentKeyInput,
        AgentKeyResult,
        AgentServiceCall,
        CheckPromptInput,
        DeployAgentInput,
        FindCustomerInput,
        NamedResource,
        RemovedJobKey,
        RetireAgentInput,
        agent_key_alias,
        agent_secret_name,
        agent_service_name,
    )
    from contracts.provisioning.customers import CUSTOMER_SERVICE_LABEL
    from contracts.provisioning.names import (
        AgentSteps,
        CloudRunSteps,
        Operations,
        RegistrySteps,
        Workflows,
    )
    from contracts.provisioning.services import (
        CloudRunCall,
        CloudRunServiceResult,
        DeleteServiceInput,
        DeployServiceInput,
        ServiceSpec,
    )

from workflows.child_jobs import run_child_job
from workflows.job import TrackedJob
from workflows.saga import Saga
from workflows.steps import step, step_to_the_end
from workflows.tracking import JobTracker

# One attempt of each step, per its work: a read of the platform's tables, a LiteLLM or Secret
# Manager call, a Cloud Run read, a Cloud Run delete (a long-running operation).
_REGISTRY = timedelta(seconds=30)
_QUICK = timedelta(minutes=1)
_CLOUD_RUN_READ = timedelta(minutes=1)
_CLOUD_RUN_APPLY = timedelta(minutes=10)


def agent_job(operation: str, service_name: str) -> JobTracker:
    # Its own subject kind: the child DeployService takes the `service:` subject's turn itself.
    return JobTracker(
        operation, JobSubject(kind="agent", name=service_name), {SERVICE_LABEL: service_name}
    )


def child_service_job_id(job_id: str) -> str:
    return f"{job_id}-service"


@workflow.defn(name=Workflows.DEPLOY_AGENT)
class DeployAgent(TrackedJob):
    @workflow.init
    def __init__(self, inp: DeployAgentInput) -> None:
        self.tracker = agent_job(Operations.DEPLOY_AGENT, inp.service_name)

    @workflow.run
    async def run(self, inp: DeployAgentInput) -> dict[str, Any]:
        return await self.run_saga(lambda saga: self._deploy(inp, saga))

    async def _deploy(self, inp: DeployAgentInput, saga: Saga) -> dict[str, Any]:
        track = self.tracker
        job_id = workflow.info().workflow_id

        track.phase("validating customer", 5, f"looking up customer {inp.customer_id}")
        customer = await step(
            AgentSteps.FIND_CUSTOMER,
            FindCustomerInput(customer_id=inp.customer_id),
            AgentCustomer,
            start_to_close=_REGISTRY,
        )
        track.label(CUSTOMER_LABEL, customer.prefix, f"agent of customer {customer.prefix}")

        track.phase("naming the service", 10)
        service_name = agent_service_name(customer.prefix, inp.agent_name)
        if service_name != inp.service_name:
            raise ApplicationError(
                f"the customer's prefix changed: the service would be {service_name}",
                type="FailedPrecondition",
                non_retryable=True,
            )
        call = CloudRunCall(service_name=service_name, region=inp.region)

        track.phase("checking the service does not exist", 15)
        if (
            await step(
                CloudRunSteps.GET_SERVICE,
                call,
                CloudRunServiceResult | None,
                start_to_close=_CLOUD_RUN_READ,
            )
            is not None
        ):
            raise ApplicationError(
                f"service {service_name} already exists", type="AlreadyExists", non_retryable=True
            )

        track.phase("validating the prompt", 20, f"looking up prompt {inp.prompt_ref}")
        await step(
            AgentSteps.CHECK_PROMPT,
            CheckPromptInput(prompt_ref=inp.prompt_ref),
            bool,
            start_to_close=_QUICK,
        )

        track.phase("litellm key", 30, "reusing or generating the agent's LiteLLM key")
        secret_name = agent_secret_name(service_name)
        key_input = AgentKeyInput(
            key_alias=agent_key_alias(service_name),
            secret_name=secret_name,
            job_id=job_id,
            litellm_user_id=customer.litellm_user_id,
            labels={AGENT_LABEL: inp.agent_name, CUSTOMER_LABEL: customer.prefix},
        )
        saga.on_failure(
            "delete this job's LiteLLM key and what it wrote to the secret",
            lambda: step(
                AgentSteps.REMOVE_JOB_KEY, key_input, RemovedJobKey, start_to_close=_QUICK
            ),
        )
        key = await step(AgentSteps.PROVISION_KEY, key_input, AgentKeyResult, start_to_close=_QUICK)
        track.log("generated a new key" if key.key_created else "reusing the existing key")

        track.phase("secret", 45)
        if key.secret_created:
            track.log(f"created secret {secret_name} with the key")
        elif key.secret_version_added:
            track.log(f"added the key as a new version of secret {secret_name}")
        else:
            track.log(f"secret {secret_name} already holds the key")

        track.phase("environment", 50, "building the agent's environment")
        env_vars = {
            "AGENT_NAME": inp.agent_name,
            "AGENT_ROLE": inp.agent_role,
            "PROMPT_REF": inp.prompt_ref,
            "DEFAULT_MODEL": inp.default_model,
            "LITELLM_URL": inp.litellm_url,
            "AGENT_PORT": str(inp.port),
        }
        spec = ServiceSpec(
            service_name=service_name,
            image=inp.image,
            port=inp.port,
            cpu=inp.cpu,
            memory=inp.memory,
            min_instances=inp.min_instances,
            max_instances=inp.max_instances,
            env_vars=env_vars,
            secrets={KEY_ENV_VAR: f"{secret_name}:latest"},
            allow_public_access=inp.allow_public_access,
            service_account=inp.service_account,
            # The customer's mark: its offboarding deletes the service only while it carries it.
            labels={AGENT_LABEL: inp.agent_name, CUSTOMER_SERVICE_LABEL: customer.prefix},
        )

        track.phase("deploying", 60, f"deploying {service_name} on Cloud Run")
        child_id = child_service_job_id(job_id)
        # The child undoes its own deploy when it fails or is cancelled; this undo is for a
        # failure of this job after the child completed, and touches only the child's service.
        created = DeleteServiceInput(**call.model_dump(), only_if_applied_by=child_id)
        saga.on_failure("delete the agent's service", lambda: self._delete_service(created))
        track.log(f"child job {child_id} deploys the service")
        deployed = await run_child_job(
            Workflows.DEPLOY_SERVICE,
            DeployServiceInput(
                spec=spec,
                operation=Operations.DEPLOY,
                region=inp.region,
                customer_prefix=customer.prefix,
            ),
            job_id=child_id,
            operation=Operations.DEPLOY,
            subject=JobSubject(kind="service", name=service_name),
            labels={SERVICE_LABEL: service_name, CUSTOMER_LABEL: customer.prefix},
            result_type=dict,
        )

        track.phase("service url", 95)
        url = deployed.get("url")
        track.log(f"agent {inp.agent_name} answers at {url}")
        return track.complete(
            {
                "service_name": service_name,
                "service_url": url,
                "status": "RUNNING",
                "agent_name": inp.agent_name,
                "customer_id": customer.customer_id,
                "region": inp.region,
                "secret_name": secret_name,
                "key_alias": agent_key_alias(service_name),
                "key_reused": not key.key_created,
                "service_job_id": child_id,
                "message": f"agent {inp.agent_name} deployed as {service_name}",
            },
            f"agent {inp.agent_name} deployed",
        )

    async def _delete_service(self, created: DeleteServiceInput) -> None:
        if await step(CloudRunSteps.DELETE_SERVICE, created, bool, start_to_close=_CLOUD_RUN_APPLY):
            await step(
                RegistrySteps.REMOVE_SERVICE,
                CloudRunCall(service_name=created.service_name, region=created.region),
                bool,
                start_to_close=_REGISTRY,
            )
        else:
            self.tracker.log("nothing to undo: the service is not the one this job deployed")


@workflow.defn(name=Workflows.RETIRE_AGENT)
class RetireAgent(TrackedJob):
    """Deletes the agent's service, registry row, secret and LiteLLM key. Every step treats "already
    gone" as done, so a retried or resumed retirement (or one started by an offboarding for an
    agent half gone) always finishes. Deletions cannot be undone: a cancel waits for them."""

    @workflow.init
    def __init__(self, inp: RetireAgentInput) -> None:
        self.tracker = agent_job(Operations.RETIRE_AGENT, inp.service_name)

    @workflow.run
    async def run(self, inp: RetireAgentInput) -> dict[str, Any]:
        return await self.run_saga(lambda _saga: self._retire(inp))

    async def _retire(self, inp: RetireAgentInput) -> dict[str, Any]:
        track = self.tracker
        name = inp.service_name
        call = AgentServiceCall(service_name=name, region=inp.region)
        track.phase("checking", 10, f"looking up agent {name}")
        found = await step(AgentSteps.DESCRIBE, call, AgentDescription, start_to_close=_QUICK)
        if found.service_exists and not found.is_agent:
            raise ApplicationError(
                f"service {name} is not an agent", type="NotAnAgent", non_retryable=True
            )
        if found.customer_prefix:
            track.label(CUSTOMER_LABEL, found.customer_prefix)
        track.on_cancel("deletions already started run to the end; nothing is restored")
        removed: dict[str, bool] = {}
        cancelled = False
        # With the service gone, nothing else proves the name is an agent's: then only a secret
        # and key marked as an agent's are deleted.
        unproven = not found.is_agent

        track.phase("deleting the service", 30, f"deleting service {name}")
        cloud_call = CloudRunCall(service_name=name, region=inp.region)
        removed["service"], cancel = await step_to_the_end(
            CloudRunSteps.DELETE_SERVICE,
            DeleteServiceInput(**cloud_call.model_dump()),
            bool,
            start_to_close=_CLOUD_RUN_APPLY,
        )
        cancelled |= cancel
        removed["registry"], cancel = await step_to_the_end(
            RegistrySteps.REMOVE_SERVICE, cloud_call, bool, start_to_close=_REGISTRY
        )
        cancelled |= cancel

        track.phase("deleting the secret", 60, f"deleting secret {agent_secret_name(name)}")
        removed["secret"], cancel = await step_to_the_end(
            AgentSteps.DELETE_SECRET,
            NamedResource(name=agent_secret_name(name), only_if_agent=unproven),
            bool,
            start_to_close=_QUICK,
        )
        cancelled |= cancel

        track.phase("deleting the key", 80, f"deleting LiteLLM key {agent_key_alias(name)}")
        removed["litellm_key"], cancel = await step_to_the_end(
            AgentSteps.DELETE_KEY,
            NamedResource(name=agent_key_alias(name), only_if_agent=unproven),
            bool,
            start_to_close=_QUICK,
        )
        cancelled |= cancel
        return track.complete(
            {
                "service_name": name,
                "region": inp.region,
                "agent_name": found.agent_name,
                "removed": removed,
                "cancel_ignored": cancelled,
            },
            f"agent {name} retired",
        )
