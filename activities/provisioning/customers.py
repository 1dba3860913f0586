"""The customer record and the customer-wide steps of onboarding and offboarding: branch statuses,
the record itself, the customer's agents, and every secret of the customer."""

from __future__ import annotations

import uuid

import structlog
from temporalio import activity

from activities.blocking import call_google
from contracts.provisioning.agents import AGENT_LABEL
from contracts.provisioning.customers import (
    CUSTOMER_SECRET_LABEL,
    JOB_LABEL,
    AgentService,
    BranchOutcome,
    CustomerSecretsInput,
    CustomerView,
    OwnedRecord,
)
from contracts.provisioning.names import CustomerSteps
from core.settings import Settings
from providers.google.secret_manager import SecretStore
from store.db import Database
from store.provisioning import customers

log = structlog.get_logger(__name__)


class CustomerActivities:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.store = SecretStore(settings)
        self.db = db

    @activity.defn(name=CustomerSteps.RECORD_BRANCH)
    async def record_branch(self, outcome: BranchOutcome) -> bool:
        async with self.db.transaction() as session:
            return await customers.record_branch(
                session,
                uuid.UUID(outcome.customer_id),
                outcome.branch,
                outcome.status,
                outcome.reason,
                outcome.fields,
            )

    @activity.defn(name=CustomerSteps.DELETE_RECORD)
    async def delete_record(self, owned: OwnedRecord) -> bool:
        """Onboarding's undo: only the record this job owns."""
        async with self.db.transaction() as session:
            return await customers.remove(session, uuid.UUID(owned.customer_id), owned.job_id)

    @activity.defn(name=CustomerSteps.LOAD)
    async def load(self, customer_id: str) -> CustomerView | None:
        async with self.db.transaction() as session:
            row = await customers.by_id(session, uuid.UUID(customer_id))
            if row is None:
                return None
            return CustomerView(
                customer_id=str(row.id),
                prefix=row.prefix,
                jira_project_key=row.jira_project_key,
                jira_group_id=row.jira_group_id,
                litellm_user_id=row.litellm_user_id,
                litellm_api_key_secret=row.litellm_api_key_secret,
                zenml_workspace_id=row.zenml_workspace_id,
                zenml_credentials_secret=row.zenml_credentials_secret,
            )

    @activity.defn(name=CustomerSteps.DEACTIVATE)
    async def deactivate(self, customer_id: str) -> bool:
        async with self.db.transaction() as session:
            row = await customers.by_id(session, uuid.UUID(customer_id))
            if row is None:
                return False
            row.active = False
            return True

    @activity.defn(name=CustomerSteps.LIST_AGENTS)
    async def list_agents(self, customer_id: str) -> list[AgentService]:
        """The customer's agents: registry rows of the customer whose labels name an agent."""
        async with self.db.transaction() as session:
            rows = await customers.services_of(session, uuid.UUID(customer_id))
        return [
            AgentService(
                service_name=row.name, region=row.region, agent_name=row.labels.get(AGENT_LABEL)
            )
            for row in rows
            if (row.labels or {}).get(AGENT_LABEL)
        ]

    @activity.defn(name=CustomerSteps.DELETE_SECRETS)
    async def delete_secrets(self, inp: CustomerSecretsInput) -> list[str]:
        """Every secret labelled with the customer, and the named ones; gone counts as deleted."""
        what = f"deleting the secrets of customer {inp.prefix}"
        labelled = await call_google(what, self.store.list, {CUSTOMER_SECRET_LABEL: inp.prefix})
        names = sorted({*(s.name for s in labelled), *inp.extra_names})
        deleted = []
        for name in names:
            if await call_google(what, self.store.delete, name):
                deleted.append(name)
        log.info("customer secrets deleted", customer=inp.prefix, count=len(deleted))
        return deleted


def secret_labels(prefix: str, job_id: str) -> dict[str, str]:
    return {CUSTOMER_SECRET_LABEL: prefix, JOB_LABEL: job_id}
