"""The customer record and the customer-wide steps of onboarding and offboarding: branch statuses,
the record itself, the customer's agents, and every secret of the customer."""

from __future__ import annotations

import uuid

import structlog
from temporalio import activity

from activities.blocking import call_google
from activities.provisioning.customer_jira import jira_call
from contracts.provisioning.agents import AGENT_LABEL
from contracts.provisioning.customer_marks import (
    jira_url_is_customers,
    metadata_is_customers,
    metadata_of,
    secret_labels_are_customers,
    service_labels_are_customers,
)
from contracts.provisioning.customers import (
    CUSTOMER_SECRET_LABEL,
    CUSTOMER_SECRET_SCOPE,
    JOB_LABEL,
    SECRET_SCOPE_LABEL,
    AgentService,
    BranchOutcome,
    CustomerNames,
    CustomerSecretsInput,
    CustomerView,
    OwnedRecord,
)
from contracts.provisioning.names import CustomerSteps
from core.settings import Settings
from providers.google.cloud_run import CloudRunServices
from providers.google.secret_manager import SecretStore
from providers.jira import JiraPortals
from providers.litellm import litellm_admin
from store.db import Database
from store.provisioning import customers
from store.provisioning.models import Customer

log = structlog.get_logger(__name__)


class CustomerReferences:
    """What a customer record names outside the platform that is not the customer's: each
    reference whose resource exists without the customer's mark. Offboarding unlinks and reports
    those, and deletes only the rest."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = SecretStore(settings)
        self.cloud_run = CloudRunServices(settings)
        self.jira = JiraPortals(settings)

    async def not_owned(self, row: Customer) -> dict[str, str]:
        """field → what it names, for every reference to something that exists and lacks the
        customer's mark (a reference to something already gone is harmless: nothing to delete)."""
        prefix, found = row.prefix, {}
        for field in ("litellm_api_key_secret", "zenml_credentials_secret"):
            name = getattr(row, field)
            if name:
                meta = await call_google(f"reading secret {name}", self.store.get, name)
                if meta is not None and not secret_labels_are_customers(meta.labels, prefix):
                    found[field] = f"secret {name}"
        if row.zenml_workspace_id:
            name = row.zenml_workspace_id
            service = await call_google(
                f"reading service {name}", self.cloud_run.get, name, self.settings.gcp_region
            )
            if service is not None and not service_labels_are_customers(service.labels, prefix):
                found["zenml_workspace_id"] = f"cloud run service {name}"
        if row.litellm_user_id:
            user = await litellm_admin(self.settings).user(row.litellm_user_id)
            if user is not None and not metadata_is_customers(metadata_of(user), prefix):
                found["litellm_user_id"] = f"litellm user {row.litellm_user_id}"
        found.update(await self._jira(row))
        if found:
            log.info("references without the customer's mark", customer=prefix, count=len(found))
        return found

    async def _jira(self, row: Customer) -> dict[str, str]:
        found = {}
        if row.jira_project_key:
            project = await jira_call(self.jira.project, row.jira_project_key)
            if project is not None and not jira_url_is_customers(
                project.get("url"),
                self.settings.public_api_url,
                row.prefix,
                row.onboarding_job_id,
            ):
                found["jira_project_key"] = f"jira project {row.jira_project_key}"
        if row.jira_group_id:
            own = await jira_call(
                self.jira.organization_id, CustomerNames(row.prefix).jira_organization
            )
            if own != row.jira_group_id:
                found["jira_group_id"] = f"jira organization {row.jira_group_id}"
        return found


class CustomerActivities:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.store = SecretStore(settings)
        self.references = CustomerReferences(settings)
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
        """The record's references, with those naming what is not the customer's left unset and
        listed in `not_owned`: offboarding unlinks them (the record goes) and deletes none."""
        async with self.db.transaction() as session:
            row = await customers.by_id(session, uuid.UUID(customer_id))
        if row is None:
            return None
        not_owned = await self.references.not_owned(row)
        fields = {
            field: None if field in not_owned else getattr(row, field)
            for field in (
                "jira_project_key",
                "jira_group_id",
                "litellm_user_id",
                "litellm_api_key_secret",
                "zenml_workspace_id",
                "zenml_credentials_secret",
            )
        }
        return CustomerView(
            customer_id=str(row.id),
            prefix=row.prefix,
            onboarding_job_id=row.onboarding_job_id,
            not_owned=sorted(not_owned.values()),
            **fields,
        )

    @activity.defn(name=CustomerSteps.DEACTIVATE)
    async def deactivate(self, customer_id: str) -> bool:
        """Locks the row as a service registration does (store.customers.active_for_update), so
        a registration in flight commits first and the agents listed next include it."""
        async with self.db.transaction() as session:
            row = await customers.by_id(session, uuid.UUID(customer_id), for_update=True)
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
        """Every secret labelled with the customer, and those named that carry that label too (a
        name alone, however it came to the record, deletes nothing)."""
        what = f"deleting the secrets of customer {inp.prefix}"
        labelled = await call_google(what, self.store.list, {CUSTOMER_SECRET_LABEL: inp.prefix})
        names = {s.name for s in labelled}
        for name in set(inp.extra_names) - names:
            found = await call_google(what, self.store.get, name)
            if found is not None and secret_labels_are_customers(found.labels, inp.prefix):
                names.add(name)
        deleted = []
        for name in sorted(names):
            if await call_google(what, self.store.delete, name):
                deleted.append(name)
        log.info("customer secrets deleted", customer=inp.prefix, count=len(deleted))
        return deleted


def secret_labels(prefix: str, job_id: str) -> dict[str, str]:
    return {
        CUSTOMER_SECRET_LABEL: prefix,
        JOB_LABEL: job_id,
        SECRET_SCOPE_LABEL: CUSTOMER_SECRET_SCOPE,
    }
