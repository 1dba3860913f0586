"""The three provisionings of a customer, each a child job of OnboardCustomer with its own saga: a
failure or cancel of one removes everything that branch made and touches nothing else. Each
returns the ids the customer record keeps."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.jobs import CUSTOMER_LABEL, SERVICE_LABEL, JobSubject
    from contracts.provisioning.customers import (
        CUSTOMER_SERVICE_LABEL,
        BranchInput,
        CustomerNames,
        JiraProject,
        JiraProjectInput,
        JiraRemoveInput,
        JiraServiceDeskInput,
        JobSecretsInput,
        LiteLLMRemoveInput,
        LiteLLMUserInput,
        OwnedStep,
    )
    from contracts.provisioning.names import (
        CloudRunSteps,
        CustomerJiraSteps,
        CustomerLiteLLMSteps,
        CustomerZenMLSteps,
        Operations,
        RegistrySteps,
        Workflows,
    )
    from contracts.provisioning.services import (
        CloudRunCall,
        DeleteServiceInput,
        DeployServiceInput,
        ServiceSpec,
    )

from workflows.child_jobs import run_child_job
from workflows.job import TrackedJob
from workflows.saga import Saga
from workflows.steps import step
from workflows.tracking import JobTracker

ZENML_PORT = 8080
# Guards the runtime-account steps of ProvisionCustomerZenML and OffboardCustomer: histories
# recorded before them replay without the steps.
RUNTIME_ACCOUNT_PATCH = "zenml-runtime-account"
# ProvisionCustomerZenML's checks moved into its secrets step; recorded histories have them apart.
CHECKS_IN_SECRETS_STEP_PATCH = "zenml-checks-in-secrets-step"


def _tracker(operation: str, inp: BranchInput) -> JobTracker:
    # No subject: the parent holds the customer's turn for the whole onboarding.
    return JobTracker(operation, None, {CUSTOMER_LABEL: inp.prefix})


@workflow.defn(name=Workflows.PROVISION_CUSTOMER_JIRA)
class ProvisionCustomerJira(TrackedJob):
    @workflow.init
    def __init__(self, inp: BranchInput) -> None:
        self.tracker = _tracker(Operations.JIRA_PROVISION, inp)

    @workflow.run
    async def run(self, inp: BranchInput) -> dict[str, Any]:
        return await self.run_saga(lambda saga: self._provision(inp, saga))

    async def _provision(self, inp: BranchInput, saga: Saga) -> dict[str, Any]:
        track, job_id = self.tracker, workflow.info().workflow_id
        project_in = JiraProjectInput(prefix=inp.prefix, name=inp.name, job_id=job_id)
        key = CustomerNames(inp.prefix).jira_project_key
        track.phase("checking", 10, f"checking that Jira project key {key} is free")
        await step(CustomerJiraSteps.CHECK_FREE, project_in, start_to_close=timedelta(minutes=1))

        track.phase("project", 30, f"creating Service Management project {key}")
        saga.on_failure(
            f"delete Jira project {key} and its organization",
            lambda: step(
                CustomerJiraSteps.REMOVE,
                JiraRemoveInput(prefix=inp.prefix, owner_job=job_id),
                bool,
                start_to_close=timedelta(minutes=5),
            ),
        )
        project = await step(
            CustomerJiraSteps.CREATE_PROJECT,
            project_in,
            JiraProject,
            start_to_close=timedelta(minutes=2),
        )

        track.phase("request types", 60, f"creating the request types of desk {project.sd_id}")
        await step(
            CustomerJiraSteps.CREATE_REQUEST_TYPES,
            project,
            list[str],
            start_to_close=timedelta(minutes=1),
        )

        track.phase("organization", 80, "creating the customer organization")
        org_id = await step(
            CustomerJiraSteps.CREATE_ORGANIZATION,
            JiraServiceDeskInput(prefix=inp.prefix, sd_id=project.sd_id),
            str,
            start_to_close=timedelta(minutes=1),
        )
        return track.complete(
            {
                "jira_project_key": project.project_key,
                "jira_project_id": project.project_id,
                "jira_sd_id": project.sd_id,
                "jira_group_id": org_id,
            },
            f"Jira portal {project.project_key} is ready (service desk {project.sd_id})",
        )


@workflow.defn(name=Workflows.PROVISION_CUSTOMER_LITELLM)
class ProvisionCustomerLiteLLM(TrackedJob):
    @workflow.init
    def __init__(self, inp: BranchInput) -> None:
        self.tracker = _tracker(Operations.LITELLM_PROVISION, inp)

    @workflow.run
    async def run(self, inp: BranchInput) -> dict[str, Any]:
        return await self.run_saga(lambda saga: self._provision(inp, saga))

    async def _provision(self, inp: BranchInput, saga: Saga) -> dict[str, Any]:
        track, job_id = self.tracker, workflow.info().workflow_id
        names = CustomerNames(inp.prefix)
        saga.on_failure(
            "delete the LiteLLM key, its secret and the user",
            lambda: step(
                CustomerLiteLLMSteps.REMOVE,
                LiteLLMRemoveInput(prefix=inp.prefix, owner_job=job_id),
                bool,
                start_to_close=timedelta(minutes=1),
            ),
        )
        track.phase("user", 20, f"creating LiteLLM user {names.litellm_user_id}")
        user_id = await step(
            CustomerLiteLLMSteps.CREATE_USER,
            LiteLLMUserInput(
                prefix=inp.prefix,
                name=inp.name,
                email=inp.email,
                job_id=job_id,
                customer_id=inp.customer_id,
            ),
            str,
            start_to_close=timedelta(minutes=1),
        )
        track.phase("key", 60, f"generating the API key into secret {names.litellm_key_secret}")
        secret = await step(
            CustomerLiteLLMSteps.CREATE_KEY,
            JobSecretsInput(prefix=inp.prefix, job_id=job_id),
            str,
            start_to_close=timedelta(minutes=1),
        )
        return track.complete(
            {"litellm_user_id": user_id, "litellm_api_key_secret": secret},
            f"LiteLLM user {user_id} is ready; its key is in secret {secret}",
        )


def zenml_spec(
    inp: BranchInput, names: CustomerNames, job_id: str, service_account: str | None = None
) -> ServiceSpec:
    """The ZenML server's Cloud Run service. `service_account` is the account it runs as (the
    one allowed to read its four secrets); None only for jobs recorded before that account."""
    env = {
        "ZENML_SERVER_DEPLOYMENT_TYPE": "gcp",
        "ZENML_SERVER_AUTO_ACTIVATE": "1",
        "ZENML_DEFAULT_USER_NAME": "admin",
    }
    if inp.zenml_organization_id:
        env["ZENML_SERVER_METADATA"] = json.dumps({"organization_id": inp.zenml_organization_id})
    return ServiceSpec(
        service_name=names.zenml_service,
        image=inp.zenml_image,
        port=ZENML_PORT,
        # The first boot runs the database migrations; scaling to zero would repeat the wait.
        min_instances=1,
        env_vars=env,
        secrets={
            "ZENML_STORE_URL": names.zenml_store_url_secret,
            "ZENML_DEFAULT_USER_PASSWORD": names.zenml_admin_password_secret,
            "ZENML_SERVER_JWT_SECRET_KEY": names.zenml_jwt_secret,
            "ZENML_SECRETS_STORE_ENCRYPTION_KEY": names.zenml_encryption_key_secret,
        },
        service_account=service_account,
        # ZenML authenticates its own users.
        allow_public_access=True,
        labels={CUSTOMER_SERVICE_LABEL: inp.prefix, "conneskills-zenml": "server"},
    )


@workflow.defn(name=Workflows.PROVISION_CUSTOMER_ZENML)
class ProvisionCustomerZenML(TrackedJob):
    @workflow.init
    def __init__(self, inp: BranchInput) -> None:
        self.tracker = _tracker(Operations.ZENML_PROVISION, inp)

    @workflow.run
    async def run(self, inp: BranchInput) -> dict[str, Any]:
        return await self.run_saga(lambda saga: self._provision(inp, saga))

    async def _provision(self, inp: BranchInput, saga: Saga) -> dict[str, Any]:
        track, job_id = self.tracker, workflow.info().workflow_id
        names = CustomerNames(inp.prefix)
        mine = OwnedStep(prefix=inp.prefix, owner_job=job_id)
        secrets_in = JobSecretsInput(prefix=inp.prefix, job_id=job_id)

        if workflow.patched(CHECKS_IN_SECRETS_STEP_PATCH):
            # The secrets step checks first: one step, and one workflow task, less before the
            # deploy, on the onboarding's longest path.
            track.phase(
                "secrets",
                20,
                f"checking that {names.zenml_database} and its secrets are new, then generating "
                "the server's secrets into Secret Manager",
            )
        else:
            track.phase(
                "checking", 10, f"checking that {names.zenml_database} and its secrets are new"
            )
            await step(
                CustomerZenMLSteps.CHECK_FREE, secrets_in, start_to_close=timedelta(minutes=1)
            )
            track.phase("secrets", 20, "generating the server's secrets into Secret Manager")
        saga.on_failure(
            "delete the ZenML secrets",
            lambda: step(
                CustomerZenMLSteps.DELETE_SECRETS,
                mine,
                list[str],
                start_to_close=timedelta(minutes=1),
            ),
        )
        await step(
            CustomerZenMLSteps.STORE_SECRETS,
            secrets_in,
            list[str],
            start_to_close=timedelta(minutes=1),
        )

        # The database and the runtime account need only the secrets: made side by side.
        with_account = workflow.patched(RUNTIME_ACCOUNT_PATCH)
        account = f" and service account {names.zenml_service_account}" if with_account else ""
        track.phase(
            "database", 35, f"creating MySQL database and user {names.zenml_database}{account}"
        )
        made = await asyncio.gather(
            self._database(names, mine, secrets_in, saga),
            *([self._runtime_account(names, mine, secrets_in, saga)] if with_account else []),
            return_exceptions=True,
        )
        # Both ended (made or failed) before the saga undoes anything of either.
        for outcome in made:
            if isinstance(outcome, BaseException):
                raise outcome
        runtime_account = made[1] if with_account else None

        deploy_id = f"{job_id}-deploy"
        service = names.zenml_service
        track.phase("server", 50, f"deploying the ZenML server {service} (job {deploy_id})")
        saga.on_failure(
            f"delete service {service}",
            lambda: self._remove_service(service, inp.region, deploy_id),
        )
        deployed = await run_child_job(
            Workflows.DEPLOY_SERVICE,
            DeployServiceInput(
                spec=zenml_spec(inp, names, job_id, runtime_account),
                operation=Operations.DEPLOY,
                region=inp.region,
                customer_prefix=inp.prefix,
            ),
            job_id=deploy_id,
            operation=Operations.DEPLOY,
            subject=JobSubject(kind="service", name=service),
            labels={SERVICE_LABEL: service, CUSTOMER_LABEL: inp.prefix},
            result_type=dict,
        )
        return track.complete(
            {
                "zenml_workspace_id": service,
                "zenml_workspace_url": deployed.get("url"),
                "zenml_credentials_secret": names.zenml_admin_password_secret,
            },
            f"ZenML server {service} is up at {deployed.get('url')}",
        )

    async def _database(
        self, names: CustomerNames, mine: OwnedStep, secrets_in: JobSecretsInput, saga: Saga
    ) -> str:
        saga.on_failure(
            f"drop MySQL database and user {names.zenml_database}",
            lambda: step(
                CustomerZenMLSteps.REMOVE_DATABASE, mine, bool, start_to_close=timedelta(minutes=2)
            ),
        )
        return await step(
            CustomerZenMLSteps.CREATE_DATABASE, secrets_in, str, start_to_close=timedelta(minutes=2)
        )

    async def _runtime_account(
        self, names: CustomerNames, mine: OwnedStep, secrets_in: JobSecretsInput, saga: Saga
    ) -> str:
        """The service account the server runs as, able to read its four secrets and no other
        customer's (the project's default compute account could read them all)."""
        saga.on_failure(
            f"delete service account {names.zenml_service_account}",
            lambda: step(
                CustomerZenMLSteps.DELETE_RUNTIME_ACCOUNT,
                mine,
                bool,
                start_to_close=timedelta(minutes=1),
            ),
        )
        return await step(
            CustomerZenMLSteps.CREATE_RUNTIME_ACCOUNT,
            secrets_in,
            str,
            start_to_close=timedelta(minutes=1),
        )

    async def _remove_service(self, service: str, region: str, deploy_id: str) -> None:
        """After the deploy job completed: its service, only while as that job left it."""
        deleted = await step(
            CloudRunSteps.DELETE_SERVICE,
            DeleteServiceInput(service_name=service, region=region, only_if_applied_by=deploy_id),
            bool,
            start_to_close=timedelta(minutes=10),
        )
        if deleted:
            call = CloudRunCall(service_name=service, region=region)
            await step(
                RegistrySteps.REMOVE_SERVICE, call, bool, start_to_close=timedelta(seconds=30)
            )
