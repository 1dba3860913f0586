"""CreateServiceDatabase (seed 000 §2.10): database + user + grants + credentials in Secret Manager,
as a saga. The workflow only ever sees secret names; each undo removes only what this job made."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.jobs import CUSTOMER_LABEL, SERVICE_LABEL, JobSubject
    from contracts.provisioning.names import Operations, ServiceDatabaseSteps, Workflows
    from contracts.provisioning.service_databases import (
        JOB_LABEL,
        ConnectionStringInput,
        CreateServiceDatabaseInput,
        DatabaseTarget,
        JobSecretInput,
        OwnedSecret,
        PreconditionsInput,
        RoleInput,
    )

from workflows.job import TrackedJob
from workflows.saga import Saga
from workflows.steps import step, step_to_the_end
from workflows.tracking import JobTracker

# One attempt of each step, per its work: a Secret Manager call or a precondition check, a CREATE
# or DROP on the customer's database server (which may wait on a lock).
_QUICK = timedelta(minutes=1)
_DDL = timedelta(minutes=3)
# The caller's staged password is deleted as the saga's last step, its undo registered before the
# job's turn: a final failure to delete it fails the job like any step, and the job then undoes all
# it made (a `finally` after the saga left the database, the user and every secret behind).
STAGED_IN_SAGA_PATCH = "staged-password-deleted-in-the-saga"


@workflow.defn(name=Workflows.CREATE_SERVICE_DATABASE)
class CreateServiceDatabase(TrackedJob):
    @workflow.init
    def __init__(self, inp: CreateServiceDatabaseInput) -> None:
        self.tracker = JobTracker(
            Operations.CREATE_SERVICE_DATABASE,
            JobSubject(kind="database", name=f"{inp.external_service_id}/{inp.db_name}"),
            {SERVICE_LABEL: inp.service_name, CUSTOMER_LABEL: inp.customer_prefix or ""},
        )
        self._inp = inp
        self._staged_in_saga = False

    def owned_from_the_start(self, saga: Saga) -> None:
        staged = self._inp.staged_password_secret
        if staged and self._staged_in_saga:
            saga.on_failure(
                "delete the staged password",
                lambda: step(
                    ServiceDatabaseSteps.DELETE_JOB_SECRET,
                    self._owned(staged),
                    start_to_close=_QUICK,
                ),
            )

    @workflow.run
    async def run(self, inp: CreateServiceDatabaseInput) -> dict[str, Any]:
        self._staged_in_saga = workflow.patched(STAGED_IN_SAGA_PATCH)
        if self._staged_in_saga:
            return await self.run_saga(lambda saga: self._create(inp, saga))
        try:
            return await self.run_saga(lambda saga: self._create(inp, saga))
        finally:
            if inp.staged_password_secret:
                # The caller's password has been copied (or the job ended): drop the staging copy,
                # whatever the outcome. Shielded, so a cancel arriving now cannot leave it behind.
                await step_to_the_end(
                    ServiceDatabaseSteps.DELETE_JOB_SECRET,
                    self._owned(inp.staged_password_secret),
                    start_to_close=_QUICK,
                )

    def _owned(self, name: str) -> OwnedSecret:
        return OwnedSecret(name=name, job_id=workflow.info().workflow_id)

    def _job_secret(self, inp: CreateServiceDatabaseInput, name: str, **extra) -> JobSecretInput:
        labels = {**inp.secrets.labels, JOB_LABEL: workflow.info().workflow_id}
        return JobSecretInput(name=name, labels=labels, **extra)

    async def _create(self, inp: CreateServiceDatabaseInput, saga: Saga) -> dict[str, Any]:
        track, plan = self.tracker, inp.secrets
        target = DatabaseTarget(external_service_id=inp.external_service_id, db_name=inp.db_name)

        track.phase("validating", 10, f"checking that {inp.db_name} and its secrets are new")
        await step(
            ServiceDatabaseSteps.CHECK_PRECONDITIONS,
            PreconditionsInput(target=target, secret_names=[plan.password, plan.connection_string]),
            start_to_close=_QUICK,
        )

        track.phase("credentials", 25, f"storing the password in secret {plan.password}")
        saga.on_failure(
            f"delete secret {plan.password}",
            lambda: step(
                ServiceDatabaseSteps.DELETE_JOB_SECRET,
                self._owned(plan.password),
                start_to_close=_QUICK,
            ),
        )
        await step(
            ServiceDatabaseSteps.STORE_PASSWORD,
            self._job_secret(inp, plan.password, staged_password_secret=inp.staged_password_secret),
            bool,
            start_to_close=_QUICK,
        )

        track.phase("database", 45, f"creating database {inp.db_name}")
        # Registered before the database's undo so that it runs after it (newest first): the user
        # can only be dropped once the database it has privileges on is gone.
        saga.on_failure(
            f"drop user {inp.db_name}",
            lambda: step(ServiceDatabaseSteps.DROP_USER, target, bool, start_to_close=_DDL),
        )
        saga.on_failure(
            f"drop database {inp.db_name}",
            lambda: step(ServiceDatabaseSteps.DROP_DATABASE, target, bool, start_to_close=_DDL),
        )
        await step(ServiceDatabaseSteps.CREATE_DATABASE, target, bool, start_to_close=_DDL)

        track.phase("user", 65, f"creating user {inp.db_name} with all privileges on its database")
        await step(
            ServiceDatabaseSteps.CREATE_USER,
            RoleInput(target=target, password_secret=plan.password),
            bool,
            start_to_close=_DDL,
        )

        track.phase("connection string", 85, f"storing secret {plan.connection_string}")
        saga.on_failure(
            f"delete secret {plan.connection_string}",
            lambda: step(
                ServiceDatabaseSteps.DELETE_JOB_SECRET,
                self._owned(plan.connection_string),
                start_to_close=_QUICK,
            ),
        )
        await step(
            ServiceDatabaseSteps.STORE_CONNECTION_STRING,
            ConnectionStringInput(
                secret=self._job_secret(inp, plan.connection_string),
                target=target,
                password_secret=plan.password,
            ),
            bool,
            start_to_close=_QUICK,
        )
        if inp.staged_password_secret and self._staged_in_saga:
            # The caller's password is in its own secret now: the staging copy goes.
            await step(
                ServiceDatabaseSteps.DELETE_JOB_SECRET,
                self._owned(inp.staged_password_secret),
                start_to_close=_QUICK,
            )
        return track.complete(
            {
                "database": inp.db_name,
                "username": inp.db_name,
                "service_name": inp.service_name,
                "scope": plan.scope,
                "customer_prefix": inp.customer_prefix,
                "password_secret": plan.password,
                "connection_string_secret": plan.connection_string,
            },
            f"database {inp.db_name} is ready; credentials are in Secret Manager",
        )
