"""The LiteLLM branch of a customer: its proxy user and its API key, the key's value stored only as
secret `{prefix}-litellm-api-key`. The key and the user carry the job id in their metadata, so a
retry recognises its own and a compensation removes only its own."""

from __future__ import annotations

import uuid
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.blocking import call_google
from activities.provisioning.customers import secret_labels
from contracts.provisioning.customer_marks import (
    metadata_is_customers,
    metadata_of,
    secret_labels_are_customers,
)
from contracts.provisioning.customers import (
    CUSTOMER_SECRET_LABEL,
    JOB_LABEL,
    CustomerNames,
    JobSecretsInput,
    LiteLLMRemoveInput,
    LiteLLMUserInput,
)
from contracts.provisioning.names import CustomerLiteLLMSteps
from core.settings import Settings
from providers.google.secret_manager import SecretStore
from providers.litellm import litellm_admin
from store.db import Database
from store.provisioning import customers


def _job_of(found: Any) -> str | None:
    return metadata_of(found).get(JOB_LABEL)


class CustomerLiteLLMActivities:
    def __init__(self, settings: Settings, db: Database | None = None) -> None:
        self.settings = settings
        self.store = SecretStore(settings)
        self.db = db

    async def _admin_of(self, inp: LiteLLMUserInput) -> tuple[str, str]:
        """The customer's name and admin email as the record has them now (a `PUT` may have
        changed them since the job started); the job's input for jobs recorded before it said
        which customer."""
        if inp.customer_id is None or self.db is None:
            return inp.name, inp.email
        async with self.db.transaction() as session:
            row = await customers.by_id(session, uuid.UUID(inp.customer_id))
        if row is None:
            raise ApplicationError(
                f"customer {inp.prefix} has no record any more: nothing to provision",
                type="CustomerGone",
                non_retryable=True,
            )
        return row.name, row.email or inp.email

    def _metadata(self, prefix: str, job_id: str) -> dict[str, str]:
        return {JOB_LABEL: job_id, CUSTOMER_SECRET_LABEL: prefix}

    @activity.defn(name=CustomerLiteLLMSteps.CREATE_USER)
    async def create_user(self, inp: LiteLLMUserInput) -> str:
        names = CustomerNames(inp.prefix)
        name, email = await self._admin_of(inp)
        try:
            user = await litellm_admin(self.settings).create_user(
                names.litellm_user_id,
                user_email=email,
                user_alias=name,
                metadata=self._metadata(inp.prefix, inp.job_id),
            )
        except ApplicationError as error:
            if not (error.non_retryable and "User with email" in str(error)):
                raise
            # The proxy keeps one user per email: another user has the customer's admin email.
            raise ApplicationError(
                f"LiteLLM already has another user with email {email}: change the customer's "
                "email (PUT /api/v1/customers/{id}), then retry this job's step (a held job) or "
                "retry it afresh",
                type="EmailTaken",
                non_retryable=True,
            ) from None
        if _job_of(user) != inp.job_id:
            raise ApplicationError(
                f"LiteLLM user {names.litellm_user_id} already exists",
                type="AlreadyExists",
                non_retryable=True,
            )
        return names.litellm_user_id

    @activity.defn(name=CustomerLiteLLMSteps.CREATE_KEY)
    async def create_key(self, inp: JobSecretsInput) -> str:
        """Generates the key and stores it. The proxy never shows a key's value again, so a retry
        that finds its key but no stored value replaces the key."""
        names = CustomerNames(inp.prefix)
        secret = names.litellm_key_secret
        what = f"writing secret {secret}"
        stored = await call_google(what, self.store.get, secret)
        if stored is not None and stored.labels.get(JOB_LABEL) != inp.job_id:
            raise ApplicationError(
                f"secret {secret} already exists", type="AlreadyExists", non_retryable=True
            )
        admin = litellm_admin(self.settings)
        key = await admin.find_key_by_alias(names.litellm_key_alias)
        if key is not None and _job_of(key) != inp.job_id:
            raise ApplicationError(
                f"LiteLLM key {names.litellm_key_alias} already exists",
                type="AlreadyExists",
                non_retryable=True,
            )
        # A secret an earlier attempt created but died before filling holds no key: make one.
        if (
            key is not None
            and stored is not None
            and await call_google(what, self.store.has_value, secret)
        ):
            return secret
        if key is not None:
            await admin.delete_keys(key_aliases=[names.litellm_key_alias])
        generated = await admin.generate_key(
            key_alias=names.litellm_key_alias,
            user_id=names.litellm_user_id,
            metadata=self._metadata(inp.prefix, inp.job_id),
        )
        if stored is None:
            labels = secret_labels(inp.prefix, inp.job_id)
            await call_google(what, self.store.create, secret, generated.key, labels)
        else:
            await call_google(what, self.store.add_version, secret, generated.key)
        return secret

    @activity.defn(name=CustomerLiteLLMSteps.REMOVE)
    async def remove(self, inp: LiteLLMRemoveInput) -> bool:
        """The key's secret, the key, the user (its remaining keys go with it); gone = done. Each
        only while it carries `owner_job`'s id, or without one the customer's mark."""
        names = CustomerNames(inp.prefix)
        admin = litellm_admin(self.settings)

        def owned_secret(found) -> bool:
            if inp.owner_job is None:
                return found is not None and secret_labels_are_customers(found.labels, inp.prefix)
            return found is not None and found.labels.get(JOB_LABEL) == inp.owner_job

        def owned(found) -> bool:
            if inp.owner_job is None:
                return found is not None and metadata_is_customers(metadata_of(found), inp.prefix)
            return found is not None and _job_of(found) == inp.owner_job

        removed = False
        secret = names.litellm_key_secret
        stored = await call_google(f"reading secret {secret}", self.store.get, secret)
        if owned_secret(stored):
            removed = await call_google(f"deleting secret {secret}", self.store.delete, secret)
        key = await admin.find_key_by_alias(names.litellm_key_alias)
        if owned(key):
            await admin.delete_keys(key_aliases=[names.litellm_key_alias])
            removed = True
        user_id = inp.user_id or names.litellm_user_id
        if not owned(await admin.user(user_id)):
            return removed
        return bool(await admin.delete_users([user_id])) or removed
