"""Customers' cleanup after a force-cancel (contracts/job_cleanup.py): a terminated OnboardCustomer
(its children and their deploy job go with it) or one of its provisioning children could not undo
anything. It is also how an onboarding that fails or is cancelled undoes a branch that had
completed, so what a branch makes is listed once, here. This step removes what those jobs own, by the same ownership checks their compensations
use, and the record the onboarding owns. Provisioning's own step already removes the services and
secrets labelled with the terminated job's id itself; the children's objects carry their own ids."""

from __future__ import annotations

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.blocking import call_google
from activities.provisioning.customer_jira import CustomerJiraActivities
from activities.provisioning.customer_litellm import CustomerLiteLLMActivities
from activities.provisioning.customer_zenml import CustomerZenMLActivities
from contracts.job_cleanup import JobCleanupInput, JobCleanupResult
from contracts.provisioning.customers import (
    CustomerNames,
    JiraRemoveInput,
    LiteLLMRemoveInput,
    OwnedStep,
)
from contracts.provisioning.names import CustomerSteps
from core.settings import Settings
from providers.google.cloud_run import CloudRunServices
from providers.google.cloud_run_spec import applied_by
from store.db import Database
from store.provisioning import customers, service_registry
from store.provisioning.models import Customer

log = structlog.get_logger(__name__)
BRANCHES = ("jira", "litellm", "zenml")


class CustomerCleanupActivities:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.cloud_run = CloudRunServices(settings)
        self.jira = CustomerJiraActivities(settings)
        self.litellm = CustomerLiteLLMActivities(settings, db)
        self.zenml = CustomerZenMLActivities(settings)

    async def _onboarding(self, job_id: str) -> tuple[Customer | None, str, list[str]]:
        """The record of the onboarding `job_id` is (or is a branch of), that onboarding's id, and
        the branches to clean up."""
        candidates = [(job_id, list(BRANCHES))]
        for branch in BRANCHES:
            if job_id.endswith(f"-{branch}"):
                candidates.append((job_id.removesuffix(f"-{branch}"), [branch]))
        async with self.db.transaction() as session:
            for onboarding, branches in candidates:
                row = await customers.by_onboarding_job(session, onboarding)
                if row is not None:
                    return row, onboarding, branches
        return None, job_id, []

    @activity.defn(name=CustomerSteps.CLEANUP_AFTER_TERMINATE)
    async def cleanup_after_terminate(self, inp: JobCleanupInput) -> JobCleanupResult:
        result = JobCleanupResult()
        row, onboarding, branches = await self._onboarding(inp.job_id)
        if row is None:
            return result  # not an onboarding, or its record is gone with everything it made
        prefix = row.prefix
        for branch in branches:
            owner = f"{onboarding}-{branch}"
            if branch == "jira":
                owned = JiraRemoveInput(prefix=prefix, owner_job=owner)
                if await self.jira.remove(owned):
                    result.removed.append(f"jira project {CustomerNames(prefix).jira_project_key}")
            elif branch == "litellm":
                owned = LiteLLMRemoveInput(prefix=prefix, owner_job=owner)
                if await self.litellm.remove(owned):
                    result.removed.append(f"litellm user and key of {prefix}")
            else:
                result.removed += await self._zenml(prefix, owner)
        async with self.db.transaction() as session:
            if owner_is_parent := inp.job_id == onboarding:
                if await customers.remove(session, row.id, onboarding):
                    result.removed.append(f"customer record {prefix}")
            else:
                await customers.record_branch(
                    session,
                    row.id,
                    branches[0],
                    "failed",
                    "stopped; what it made was removed",
                    {},
                )
        log.info(
            "customer cleanup after terminate",
            job_id=inp.job_id,
            parent=owner_is_parent,
            removed=len(result.removed),
        )
        return result

    async def _zenml(self, prefix: str, owner: str) -> list[str]:
        names = CustomerNames(prefix)
        removed = []
        region = self.settings.gcp_region
        service = await call_google(
            f"reading service {names.zenml_service}",
            self.cloud_run.get,
            names.zenml_service,
            region,
        )
        if applied_by(service, f"{owner}-deploy"):
            outcome = await call_google(
                f"deleting service {names.zenml_service}",
                self.cloud_run.force_delete,
                names.zenml_service,
                region,
            )
            if outcome.startswith("error"):
                raise ApplicationError(f"deleting service {names.zenml_service}: {outcome}")
            if outcome == "deleted":
                removed.append(f"cloud run service {names.zenml_service}")
            async with self.db.transaction() as session:
                await service_registry.remove(session, names.zenml_service)
        mine = OwnedStep(prefix=prefix, owner_job=owner)
        if await self.zenml.remove_database(mine):
            removed.append(f"mysql database and user {names.zenml_database}")
        if await self.zenml.delete_runtime_account(mine):
            removed.append(f"service account {names.zenml_service_account}")
        removed += [f"secret {name}" for name in await self.zenml.delete_secrets(mine)]
        return removed
