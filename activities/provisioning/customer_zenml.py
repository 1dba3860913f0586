"""The ZenML branch of a customer, before and after its Cloud Run deploy: the MySQL database and
user, the server's secrets (store URL, admin password, JWT key, secrets-store key), and the service
account the server runs as, which may read those four secrets and nothing else. Values are
generated here and written straight to Secret Manager; only their names leave these activities.

A service account has no labels: the job that creates one writes its id in the description
(`conneskills job <job_id>`), and a compensation or cleanup deletes only an account so marked."""

from __future__ import annotations

import secrets as random_secrets

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.blocking import call_google
from activities.provisioning.customers import secret_labels
from contracts.provisioning.customer_marks import (
    account_is_customers,
    runtime_account_display_name,
    secret_labels_are_customers,
)
from contracts.provisioning.customers import JOB_LABEL, CustomerNames, JobSecretsInput, OwnedStep
from contracts.provisioning.names import CustomerZenMLSteps
from core.settings import Settings
from providers.google.cloud_run import CloudRunServices
from providers.google.cloud_run_spec import applied_by
from providers.google.secret_manager import SecretStore
from providers.google.service_accounts import ServiceAccounts, owner_description
from providers.zenml_mysql import MySQLProblem, ZenMLDatabases

_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"


def _random(length: int) -> str:
    # Letters and digits only: safe inside a URL and in every env var.
    return "".join(random_secrets.choice(_ALPHABET) for _ in range(length))


class CustomerZenMLActivities:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = SecretStore(settings)
        self.accounts = ServiceAccounts(settings)
        self.cloud_run = CloudRunServices(settings)
        self.mysql = ZenMLDatabases(
            settings.zenml_mysql_url.get_secret_value(), settings.zenml_mysql_host_for_server
        )

    async def _mysql(self, call):
        try:
            return await call
        except MySQLProblem as problem:
            raise ApplicationError(
                str(problem), type="MySQLError", non_retryable=not problem.retryable
            ) from None

    @activity.defn(name=CustomerZenMLSteps.CHECK_FREE)
    async def check_free(self, inp: JobSecretsInput) -> None:
        """The checks alone, as jobs recorded before `store_secrets` made them ran them."""
        await self._refuse_what_is_not_ours(inp)

    async def _refuse_what_is_not_ours(self, inp: JobSecretsInput) -> None:
        """Refuses to adopt a service, database, user, secret or account that exists and is not
        this job's: its deploy would otherwise take over a service of that name (another
        customer's agent, a plain service) in place."""
        names = CustomerNames(inp.prefix)
        service = await call_google(
            f"checking service {names.zenml_service}",
            self.cloud_run.get,
            names.zenml_service,
            self.settings.gcp_region,
        )
        if service is not None and not applied_by(service, f"{inp.job_id}-deploy"):
            raise ApplicationError(
                f"service {names.zenml_service} already exists",
                type="AlreadyExists",
                non_retryable=True,
            )
        database, user = await self._mysql(self.mysql.exists(names.zenml_database))
        if database or user:
            raise ApplicationError(
                f"MySQL database or user {names.zenml_database} already exists",
                type="AlreadyExists",
                non_retryable=True,
            )
        for name in names.zenml_secrets:
            found = await call_google(f"checking secret {name}", self.store.get, name)
            if found is not None and found.labels.get(JOB_LABEL) != inp.job_id:
                raise ApplicationError(
                    f"secret {name} already exists", type="AlreadyExists", non_retryable=True
                )
        email = self._account_email(inp.prefix)
        account = await call_google(f"checking service account {email}", self.accounts.get, email)
        if account is not None and not account.made_by(inp.job_id):
            raise ApplicationError(
                f"service account {email} already exists", type="AlreadyExists", non_retryable=True
            )

    def _account_email(self, prefix: str) -> str:
        return CustomerNames(prefix).zenml_service_account_email(self.settings.gcp_project)

    @activity.defn(name=CustomerZenMLSteps.CREATE_RUNTIME_ACCOUNT)
    async def create_runtime_account(self, inp: JobSecretsInput) -> str:
        """The account the ZenML server runs as, marked with this job's id, allowed to read each of
        the four ZenML secrets (a binding on each secret, not on the project: it reads no other
        customer's). A retry adopts the account an earlier attempt made and grants again, which
        changes nothing; any other existing account is refused. Returns its email."""
        names = CustomerNames(inp.prefix)
        email = await call_google(
            f"creating service account {names.zenml_service_account}",
            self.accounts.create,
            names.zenml_service_account,
            runtime_account_display_name(inp.prefix),
            owner_description(inp.job_id),
        )
        for name in names.zenml_secrets:
            await call_google(
                f"granting read access to secret {name}",
                self.store.grant_accessor,
                name,
                f"serviceAccount:{email}",
            )
        return email

    @activity.defn(name=CustomerZenMLSteps.DELETE_RUNTIME_ACCOUNT)
    async def delete_runtime_account(self, inp: OwnedStep) -> bool:
        """Deletes the runtime account: with `owner_job`, only when that job made it, without one
        only when it is the customer's; "already gone" is False."""
        email = self._account_email(inp.prefix)
        what = f"deleting service account {email}"
        found = await call_google(what, self.accounts.get, email)
        if inp.owner_job is not None:
            owned = found is not None and found.made_by(inp.owner_job)
        else:
            owned = found is not None and account_is_customers(
                found.display_name, found.description, inp.prefix
            )
        if not owned:
            return False
        return await call_google(what, self.accounts.delete, email)

    @activity.defn(name=CustomerZenMLSteps.STORE_SECRETS)
    async def store_secrets(self, inp: JobSecretsInput) -> list[str]:
        """Checks that nothing of the ZenML branch exists that is not this job's, then generates
        the server's secrets; a retry keeps the values an earlier attempt stored (they are its
        job's, so the checks pass again)."""
        await self._refuse_what_is_not_ours(inp)
        names = CustomerNames(inp.prefix)
        labels = secret_labels(inp.prefix, inp.job_id)
        values = {
            names.zenml_store_url_secret: lambda: self.mysql.store_url(
                names.zenml_database, _random(24)
            ),
            names.zenml_admin_password_secret: lambda: _random(24),
            names.zenml_jwt_secret: lambda: _random(48),
            names.zenml_encryption_key_secret: lambda: _random(48),
        }
        for name, make in values.items():
            what = f"writing secret {name}"
            found = await call_google(what, self.store.get, name)
            if found is None:
                await call_google(what, self.store.create, name, make(), labels)
            elif found.labels.get(JOB_LABEL) != inp.job_id:
                raise ApplicationError(
                    f"secret {name} already exists", type="AlreadyExists", non_retryable=True
                )
            elif not await call_google(what, self.store.has_value, name):
                # An earlier attempt died between creating the secret and storing its value;
                # nothing can have read a value that was never stored.
                await call_google(what, self.store.add_version, name, make())
        return list(values)

    @activity.defn(name=CustomerZenMLSteps.CREATE_DATABASE)
    async def create_database(self, inp: JobSecretsInput) -> str:
        names = CustomerNames(inp.prefix)
        url = await call_google(
            "reading the store URL", self.store.access, names.zenml_store_url_secret
        )
        password = url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
        await self._mysql(self.mysql.ensure(names.zenml_database, password))
        return names.zenml_database

    @activity.defn(name=CustomerZenMLSteps.REMOVE_DATABASE)
    async def remove_database(self, inp: OwnedStep) -> bool:
        """Drops the database and user once the store URL secret shows them owned: a compensation's
        job made the database only after that secret (check_free saw neither), and an offboarding
        finds the secret marked as its customer's (MySQL keeps no mark of its own)."""
        names = CustomerNames(inp.prefix)
        if not await self._owned_secret(names.zenml_store_url_secret, inp):
            return False
        return await self._mysql(self.mysql.drop(names.zenml_database))

    async def _owned_secret(self, name: str, inp: OwnedStep) -> bool:
        found = await call_google(f"checking secret {name}", self.store.get, name)
        if inp.owner_job is None:
            return found is not None and secret_labels_are_customers(found.labels, inp.prefix)
        return found is not None and found.labels.get(JOB_LABEL) == inp.owner_job

    @activity.defn(name=CustomerZenMLSteps.DELETE_SECRETS)
    async def delete_secrets(self, inp: OwnedStep) -> list[str]:
        deleted = []
        for name in CustomerNames(inp.prefix).zenml_secrets:
            if not await self._owned_secret(name, inp):
                continue
            if await call_google(f"deleting secret {name}", self.store.delete, name):
                deleted.append(name)
        return deleted
