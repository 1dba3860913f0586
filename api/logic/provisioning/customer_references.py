"""The reference fields a `PUT /customers/{id}` sets (§3.7) must name something that exists, and
naming a secret is reading it: the caller needs the `secrets` scope (audited like every other
secret reference). Whether what they name is the customer's own is decided when it matters, at
offboarding, by its ownership mark (what lacks it is unlinked, never deleted)."""

from __future__ import annotations

from typing import Any

from api.auth import Principal
from api.cloud import call_cloud
from api.errors import ApiError
from api.logic.provisioning.litellm_calls import call_litellm
from api.logic.provisioning.secret_access import SecretUse
from core.settings import Settings
from providers.google.cloud_run import CloudRunServices
from providers.google.secret_manager import SecretStore
from providers.jira import JiraPortals, JiraProblem
from providers.litellm import litellm_admin
from store.db import Database
from store.provisioning import secret_audit

SECRET_FIELDS = ("litellm_api_key_secret", "zenml_credentials_secret")


def _unknown(field: str, what: str) -> ApiError:
    return ApiError(
        400,
        f"invalid request: {field} names {what}, which does not exist",
        details={"fields": [{"field": field, "message": f"{what} does not exist"}]},
    )


async def check(
    settings: Settings, db: Database, principal: Principal, prefix: str, changes: dict[str, Any]
) -> None:
    secrets = {field: changes[field] for field in SECRET_FIELDS if changes.get(field)}
    use = SecretUse(db, principal, secret_audit.REFERENCED_BY_CUSTOMER, f"customer={prefix}")
    await use.authorize(secrets.values())
    store = SecretStore(settings)
    for field, name in secrets.items():
        if not await call_cloud(f"reading secret {name}", store.exists, name):
            await use.record([name], secret_audit.NOT_FOUND)
            raise _unknown(field, f"secret {name}")
    await use.record(secrets.values(), secret_audit.OK)
    if service := changes.get("zenml_workspace_id"):
        found = await call_cloud(
            f"reading service {service}", CloudRunServices(settings).get, service
        )
        if found is None:
            raise _unknown("zenml_workspace_id", f"service {service}")
    if user := changes.get("litellm_user_id"):
        admin = litellm_admin(settings)
        if await call_litellm(f"reading LiteLLM user {user}", admin.user, user) is None:
            raise _unknown("litellm_user_id", f"LiteLLM user {user}")
    if key := changes.get("jira_project_key"):
        await _jira_project_exists(settings, key)


async def _jira_project_exists(settings: Settings, key: str) -> None:
    try:
        project = await call_cloud(
            f"reading Jira project {key}", JiraPortals(settings).project, key
        )
    except JiraProblem as problem:
        raise ApiError(
            502, f"reading Jira project {key}: {problem}", code="upstream_error"
        ) from None
    if project is None:
        raise _unknown("jira_project_key", f"Jira project {key}")
