"""The steps of CreateServiceDatabase: each idempotent, each undone by its own activity.

Passwords exist only inside these activities: generated here or read from Secret Manager, written
to Secret Manager here. Secrets this job writes carry a `job-id` label, so a retried step knows its
own secret from one that existed before the job (which it refuses to touch).
"""

from __future__ import annotations

import secrets as random_secrets
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.blocking import call_google
from contracts.provisioning.names import ServiceDatabaseSteps
from contracts.provisioning.service_databases import (
    JOB_LABEL,
    ConnectionStringInput,
    DatabaseTarget,
    JobSecretInput,
    OwnedSecret,
    PreconditionsInput,
    RoleInput,
)
from core.settings import Settings
from providers.google.errors import as_temporal_failures
from providers.google.secret_manager import SecretStore
from providers.service_templates import (
    ExternalServiceOperationError,
    PostgresTemplate,
    ServiceConnection,
    connection_string,
)
from providers.service_templates.connections import NoTemplate, SecretRefsMissing, connection_for
from store.db import Database
from store.provisioning import external_services

log = structlog.get_logger(__name__)
T = TypeVar("T")
PASSWORD_LENGTH = 24


def generate_password() -> str:
    # Letters and digits only: safe in URLs, shells and every driver's DSN parser.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    return "".join(random_secrets.choice(alphabet) for _ in range(PASSWORD_LENGTH))


class ServiceDatabaseActivities:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.store = SecretStore(settings)
        self.db = db
        self.postgres = PostgresTemplate()

    @staticmethod
    def _failure(what: str, error: ExternalServiceOperationError) -> ApplicationError:
        return ApplicationError(
            f"{what}: {error.message}", type=type(error).__name__, non_retryable=not error.retryable
        )

    async def _on_database(self, what: str, step: Callable[[], Awaitable[T]]) -> T:
        try:
            return await step()
        except ExternalServiceOperationError as error:
            raise self._failure(what, error) from None

    async def _connection(self, target: DatabaseTarget) -> ServiceConnection:
        async with self.db.transaction() as session:
            row = await external_services.by_id(session, uuid.UUID(target.external_service_id))
        if row is None:
            raise ApplicationError(
                f"external service {target.external_service_id} no longer exists",
                type="NotFound",
                non_retryable=True,
            )
        with as_temporal_failures(f"reading the secrets of {row.name}"):
            try:
                return await connection_for(row, self.store)
            except (SecretRefsMissing, NoTemplate) as error:
                raise ApplicationError(
                    f"external service {row.name}: {error}", type="NotFound", non_retryable=True
                ) from None

    async def _on_name(
        self,
        target: DatabaseTarget,
        what: str,
        call: Callable[[ServiceConnection, str], Awaitable[T]],
    ) -> T:
        """Connects to the target's server, then runs one call on the target's name."""
        conn = await self._connection(target)
        return await self._on_database(
            f"{what} {target.db_name}", lambda: call(conn, target.db_name)
        )

    @activity.defn(name=ServiceDatabaseSteps.CHECK_PRECONDITIONS)
    async def check_preconditions(self, inp: PreconditionsInput) -> None:
        """Refuses to start when the database, its user or its secrets already exist: this job
        creates them and, on failure, removes them, so it must never adopt what it did not make."""
        conn = await self._connection(inp.target)
        name = inp.target.db_name
        what = f"checking {name}"
        if await self._on_database(what, lambda: self.postgres.database_exists(conn, name)):
            raise ApplicationError(
                f"database {name} already exists", type="AlreadyExists", non_retryable=True
            )
        if await self._on_database(what, lambda: self.postgres.role_exists(conn, name)):
            raise ApplicationError(
                f"database user {name} already exists", type="AlreadyExists", non_retryable=True
            )
        for secret in inp.secret_names:
            if await call_google(what, self.store.exists, secret):
                raise ApplicationError(
                    f"secret {secret} already exists", type="AlreadyExists", non_retryable=True
                )

    async def _write_job_secret(
        self, secret: JobSecretInput, make_value: Callable[[], str]
    ) -> bool:
        what = f"writing secret {secret.name}"
        existing = await call_google(what, self.store.get, secret.name)
        if existing is not None:
            if existing.labels.get(JOB_LABEL) != secret.labels.get(JOB_LABEL):
                raise ApplicationError(
                    f"secret {secret.name} already exists", type="AlreadyExists", non_retryable=True
                )
            # An earlier attempt of this step made it; it may have died between creating the
            # secret and adding its value. Nothing can have read a value that was never stored.
            if not await call_google(what, self.store.has_value, secret.name):
                await call_google(what, self.store.add_version, secret.name, make_value())
            return False
        # SecretStore.create removes the secret again if its value cannot be stored.
        await call_google(what, self.store.create, secret.name, make_value(), secret.labels)
        log.info("secret written", secret=secret.name)
        return True

    @activity.defn(name=ServiceDatabaseSteps.STORE_PASSWORD)
    async def store_password(self, inp: JobSecretInput) -> bool:
        staged = None
        if inp.staged_password_secret:
            staged = await call_google(
                "reading the given password", self.store.access, inp.staged_password_secret
            )
        return await self._write_job_secret(inp, lambda: staged or generate_password())

    @activity.defn(name=ServiceDatabaseSteps.CREATE_DATABASE)
    async def create_database(self, target: DatabaseTarget) -> bool:
        return await self._on_name(target, "creating database", self.postgres.ensure_database)

    @activity.defn(name=ServiceDatabaseSteps.CREATE_USER)
    async def create_user(self, inp: RoleInput) -> bool:
        conn = await self._connection(inp.target)
        name = inp.target.db_name
        password = await call_google(
            "reading the database password", self.store.access, inp.password_secret
        )
        created = await self._on_database(
            f"creating user {name}", lambda: self.postgres.ensure_role(conn, name, password)
        )
        await self._on_database(
            f"granting {name} its database",
            lambda: self.postgres.grant_service_privileges(conn, name, name),
        )
        return created

    @activity.defn(name=ServiceDatabaseSteps.STORE_CONNECTION_STRING)
    async def store_connection_string(self, inp: ConnectionStringInput) -> bool:
        conn = await self._connection(inp.target)
        password = await call_google(
            "reading the database password", self.store.access, inp.password_secret
        )
        host_url = conn.credentials.get("connection_string") or conn.url
        try:
            value = connection_string(host_url, inp.target.db_name, password)
        except ExternalServiceOperationError as error:
            raise self._failure("building the connection string", error) from None
        return await self._write_job_secret(inp.secret, lambda: value)

    @activity.defn(name=ServiceDatabaseSteps.DROP_DATABASE)
    async def drop_database(self, target: DatabaseTarget) -> bool:
        return await self._on_name(
            target, "dropping database", self.postgres.drop_database_if_exists
        )

    @activity.defn(name=ServiceDatabaseSteps.DROP_USER)
    async def drop_user(self, target: DatabaseTarget) -> bool:
        return await self._on_name(target, "dropping user", self.postgres.drop_role_if_exists)

    @activity.defn(name=ServiceDatabaseSteps.DELETE_JOB_SECRET)
    async def delete_job_secret(self, owned: OwnedSecret) -> bool:
        """Deletes a secret only when this job wrote it (its label says so)."""
        what = f"deleting secret {owned.name}"
        existing = await call_google(what, self.store.get, owned.name)
        if existing is None or existing.labels.get(JOB_LABEL) != owned.job_id:
            return False
        return await call_google(what, self.store.delete, owned.name)
