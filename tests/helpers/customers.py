"""What the customer tests look at: every object a customer may own in the emulators (Jira, LiteLLM,
Secret Manager, Cloud Run, IAM) and in the real MariaDB, read through the same clients the platform uses."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from contracts.provisioning.customers import CustomerNames
from core.settings import Settings
from providers.google.cloud_run import CloudRunServices
from providers.google.secret_manager import SecretStore
from providers.google.service_accounts import ServiceAccounts
from providers.jira import JiraPortals
from providers.litellm import litellm_admin
from providers.zenml_mysql import ZenMLDatabases

BASE = "/api/v1/customers"


def new_prefix() -> str:
    return f"c{uuid.uuid4().hex[:8]}"


async def create(api, prefix: str, **flags) -> dict:
    body = {"prefix": prefix, "name": f"Customer {prefix}", "email": f"admin@{prefix}.example"}
    response = await api.post(BASE, json={**body, **flags})
    assert response.status_code == 201, response.text
    return response.json()


ALL = {"create_jira_portal": True, "create_litellm": True, "create_zenml": True}


@dataclass
class Footprint:
    """What exists of a customer outside the platform."""

    jira_project: bool
    jira_organization: bool
    litellm_user: bool
    litellm_key: bool
    secrets: list[str]
    database: bool
    db_user: bool
    zenml_service: bool
    zenml_account: bool

    @property
    def empty(self) -> bool:
        return not any(
            (
                self.jira_project,
                self.jira_organization,
                self.litellm_user,
                self.litellm_key,
                self.secrets,
                self.database,
                self.db_user,
                self.zenml_service,
                self.zenml_account,
            )
        )


async def footprint(settings: Settings, prefix: str) -> Footprint:
    names = CustomerNames(prefix)
    jira = JiraPortals(settings)
    admin = litellm_admin(settings)
    store = SecretStore(settings)
    candidates = [names.litellm_key_secret, *names.zenml_secrets]
    present = [n for n in candidates if await asyncio.to_thread(store.exists, n)]
    database, db_user = await ZenMLDatabases(settings.zenml_mysql_url.get_secret_value()).exists(
        names.zenml_database
    )
    service = await asyncio.to_thread(CloudRunServices(settings).get, names.zenml_service)
    account = await asyncio.to_thread(
        ServiceAccounts(settings).get, names.zenml_service_account_email(settings.gcp_project)
    )
    return Footprint(
        jira_project=await asyncio.to_thread(jira.project, names.jira_project_key) is not None,
        jira_organization=bool(
            await asyncio.to_thread(jira.organization_id, names.jira_organization)
        ),
        litellm_user=await admin.user(names.litellm_user_id) is not None,
        litellm_key=await admin.find_key_by_alias(names.litellm_key_alias) is not None,
        secrets=present,
        database=database,
        db_user=db_user,
        zenml_service=service is not None,
        zenml_account=account is not None,
    )
