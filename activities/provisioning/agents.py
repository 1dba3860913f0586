"""Agent steps (seed 000 §4): the customer and prompt checks, the agent's LiteLLM key and its secret,
and the lookups and deletions RetireAgent makes. Each is idempotent.

The key is the one secret here: `provision_key` generates it and writes it into Secret Manager in
the same activity, so its value never reaches Temporal. What travels is the key's sha256 hash
(LiteLLM's `token`), which is also how a secret's value is matched to a key without showing it.
"""

from __future__ import annotations

import hashlib
import uuid

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.blocking import call_google
from contracts.job_cleanup import JobCleanupInput, JobCleanupResult
from contracts.provisioning.agents import (
    AGENT_LABEL,
    JOB_LABEL,
    KEY_JOB_METADATA,
    AgentCustomer,
    AgentDescription,
    AgentKeyInput,
    AgentKeyResult,
    AgentServiceCall,
    CheckPromptInput,
    FindCustomerInput,
    NamedResource,
    RemovedJobKey,
    agent_secret_name,
)
from contracts.provisioning.names import AgentSteps
from core.settings import Settings
from providers.google.cloud_run import CloudRunServices
from providers.google.secret_manager import SecretStore
from providers.litellm import litellm_admin
from store.db import Database
from store.provisioning import customers, service_registry

log = structlog.get_logger(__name__)


def _token(value: str) -> str:
    """LiteLLM's `token` for a key: its sha256, so a stored value is matched to a key unseen."""
    return hashlib.sha256(value.encode()).hexdigest()


class AgentActivities:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.store = SecretStore(settings)
        self.cloud_run = CloudRunServices(settings)

    @activity.defn(name=AgentSteps.FIND_CUSTOMER)
    async def find_customer(self, inp: FindCustomerInput) -> AgentCustomer:
        async with self.db.transaction() as session:
            customer = await customers.by_id(session, uuid.UUID(inp.customer_id))
        if customer is None:
            raise ApplicationError(
                f"customer {inp.customer_id} does not exist", type="NotFound", non_retryable=True
            )
        if not customer.active:
            raise ApplicationError(
                f"customer {customer.prefix} is being offboarded: no new agent",
                type="FailedPrecondition",
                non_retryable=True,
            )
        if not customer.litellm_user_id:
            raise ApplicationError(
                f"customer {customer.prefix} has no LiteLLM user to own the agent's key",
                type="FailedPrecondition",
                non_retryable=True,
            )
        return AgentCustomer(
            customer_id=str(customer.id),
            prefix=customer.prefix,
            litellm_user_id=customer.litellm_user_id,
        )

    @activity.defn(name=AgentSteps.CHECK_PROMPT)
    async def check_prompt(self, inp: CheckPromptInput) -> bool:
        prompts = await litellm_admin(self.settings).list_prompts()
        if not any(p.prompt_id == inp.prompt_ref for p in prompts):
            raise ApplicationError(
                f"prompt {inp.prompt_ref!r} does not exist in LiteLLM",
                type="InvalidArgument",
                non_retryable=True,
            )
        return True

    async def _secret_holds(self, name: str, token: str) -> bool:
        what = f"reading secret {name}"
        if await call_google(what, self.store.get, name) is None:
            return False
        if not await call_google(what, self.store.enabled_versions, name):
            return False
        return _token(await call_google(what, self.store.access, name)) == token

    @activity.defn(name=AgentSteps.PROVISION_KEY)
    async def provision_key(self, inp: AgentKeyInput) -> AgentKeyResult:
        """Phases 5–6: reuse the agent's key when its secret holds it, else generate one (marked
        with this job) and store it as the secret's value (a new secret, or a new version)."""
        admin = litellm_admin(self.settings)
        existing = await admin.find_key_by_alias(inp.key_alias)
        if existing is not None:
            ours = existing.metadata.get(KEY_JOB_METADATA) == inp.job_id
            if await self._secret_holds(inp.secret_name, existing.token):
                secret = await call_google("reading secret", self.store.get, inp.secret_name)
                created = secret is not None and secret.labels.get(JOB_LABEL) == inp.job_id
                return AgentKeyResult(
                    token=existing.token,
                    key_created=ours,
                    secret_created=ours and created,
                    secret_version_added=ours and not created,
                )
            if not ours:
                raise ApplicationError(
                    f"LiteLLM key {inp.key_alias} exists but secret {inp.secret_name} does not "
                    "hold it, and a key's value cannot be read back: delete the key or restore "
                    "the secret",
                    type="FailedPrecondition",
                    non_retryable=True,
                )
            # An earlier attempt of this job generated it but died before storing it: its value
            # is lost, so it is replaced.
            await admin.delete_keys(keys=[existing.token])
        generated = await admin.generate_key(
            key_alias=inp.key_alias,
            user_id=inp.litellm_user_id,
            metadata={KEY_JOB_METADATA: inp.job_id, **inp.labels},
        )
        what = f"writing secret {inp.secret_name}"
        labels = {**inp.labels, JOB_LABEL: inp.job_id}
        created = await call_google(what, self.store.ensure, inp.secret_name, generated.key, labels)
        log.info("agent key stored", key_alias=inp.key_alias, secret=inp.secret_name)
        return AgentKeyResult(
            token=generated.token,
            key_created=True,
            secret_created=created,
            secret_version_added=not created,
        )

    @activity.defn(name=AgentSteps.REMOVE_JOB_KEY)
    async def remove_job_key(self, inp: AgentKeyInput) -> RemovedJobKey:
        """Undo of phases 5–6: only what this job made. Its key (marked with the job id), the
        secret if the job created it, else the versions holding this job's key. A reused key and a
        secret that existed before are left."""
        admin = litellm_admin(self.settings)
        key = await admin.find_key_by_alias(inp.key_alias)
        token = key.token if key and key.metadata.get(KEY_JOB_METADATA) == inp.job_id else None
        what = f"cleaning secret {inp.secret_name}"
        secret = await call_google(what, self.store.get, inp.secret_name)
        secret_deleted, destroyed = False, 0
        if secret is not None and secret.labels.get(JOB_LABEL) == inp.job_id:
            secret_deleted = await call_google(what, self.store.delete, inp.secret_name)
        elif secret is not None and token is not None:
            destroyed = len(await self._destroy_versions_holding(inp.secret_name, token))
        # The key goes last: while it exists, a retry can still tell which versions hold it.
        key_deleted = bool(token) and await admin.delete_keys(keys=[token]) > 0
        return RemovedJobKey(
            key_deleted=key_deleted, secret_deleted=secret_deleted, versions_destroyed=destroyed
        )

    async def _destroy_versions_holding(self, secret_name: str, token: str) -> list[str]:
        """Destroys the secret's enabled versions whose value is the key with this token (Secret
        Manager versions carry no labels: the value is what ties a version to the job's key).
        Returns the versions destroyed; the older ones stay enabled."""
        what = f"cleaning secret {secret_name}"
        destroyed = []
        for version in await call_google(what, self.store.enabled_versions, secret_name):
            value = await call_google(what, self.store.access, secret_name, version)
            if _token(value) == token:
                await call_google(what, self.store.destroy_version, secret_name, version)
                destroyed.append(version)
        return destroyed

    @activity.defn(name=AgentSteps.DESCRIBE)
    async def describe(self, call: AgentServiceCall) -> AgentDescription:
        service = await call_google(
            f"reading service {call.service_name}",
            self.cloud_run.get,
            call.service_name,
            call.region,
        )
        async with self.db.transaction() as session:
            record, owner = await service_registry.with_customer(session, call.service_name)
        labels = dict(service.labels) if service is not None else {}
        if record is not None:
            labels = {**(record.labels or {}), **labels}
        agent_name = labels.get(AGENT_LABEL)
        return AgentDescription(
            service_exists=service is not None,
            is_agent=agent_name is not None,
            agent_name=agent_name,
            customer_prefix=owner.prefix if owner is not None else None,
        )

    @activity.defn(name=AgentSteps.DELETE_SECRET)
    async def delete_secret(self, inp: NamedResource) -> bool:
        what = f"deleting secret {inp.name}"
        if inp.only_if_agent:
            secret = await call_google(what, self.store.get, inp.name)
            if secret is None or AGENT_LABEL not in secret.labels:
                return False
        return await call_google(what, self.store.delete, inp.name)

    @activity.defn(name=AgentSteps.DELETE_KEY)
    async def delete_key(self, inp: NamedResource) -> bool:
        admin = litellm_admin(self.settings)
        if inp.only_if_agent:
            key = await admin.find_key_by_alias(inp.name)
            if key is None or AGENT_LABEL not in key.metadata:
                return False
        return await admin.delete_keys(key_aliases=[inp.name]) > 0

    @activity.defn(name=AgentSteps.CLEANUP_AFTER_TERMINATE)
    async def cleanup_after_terminate(self, inp: JobCleanupInput) -> JobCleanupResult:
        """After a force-cancel: the LiteLLM keys the terminated job made (their metadata names
        its id; a reused key does not), and the versions holding them that it added to the
        agent's secret when that secret existed before (a secret it created, labelled with its
        id, goes with provisioning's step). The versions go first: while a key exists, a retry
        can still tell which versions hold it."""
        admin = litellm_admin(self.settings)
        ours = [
            k for k in await admin.list_keys() if k.metadata.get(KEY_JOB_METADATA) == inp.job_id
        ]
        removed = []
        for key in ours:
            if not key.key_alias:
                continue
            # The agent's key is aliased by its service name, its secret named after it too.
            secret_name = agent_secret_name(key.key_alias)
            secret = await call_google(f"reading secret {secret_name}", self.store.get, secret_name)
            if secret is None or secret.labels.get(JOB_LABEL) == inp.job_id:
                continue
            for version in await self._destroy_versions_holding(secret_name, key.token):
                removed.append(f"secret {secret_name} version {version}")
        if ours:
            await admin.delete_keys(keys=[k.token for k in ours])
        removed += [f"litellm key {k.key_alias or k.token[:12]}" for k in ours]
        return JobCleanupResult(removed=removed)
