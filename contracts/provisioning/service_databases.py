"""Inputs of CreateServiceDatabase and its steps: names only, never a password or connection string."""

from __future__ import annotations

from pydantic import BaseModel, Field

DB_NAME_PATTERN = r"^[a-z_][a-z0-9_-]{0,62}$"
# Label on every secret a job writes: a retry recognises its own secret, compensation deletes only it.
JOB_LABEL = "job-id"


class SecretPlan(BaseModel):
    """Where the job's secrets go: GLOBAL for core services, CUSTOMER `{prefix}-…` otherwise."""

    scope: str
    password: str
    connection_string: str
    labels: dict[str, str]


class CreateServiceDatabaseInput(BaseModel):
    external_service_id: str
    db_name: str = Field(pattern=DB_NAME_PATTERN)
    service_name: str
    customer_prefix: str | None = None
    # A caller-given password, written to Secret Manager by the API before the job starts.
    staged_password_secret: str | None = None
    secrets: SecretPlan


class DatabaseTarget(BaseModel):
    external_service_id: str
    db_name: str


class PreconditionsInput(BaseModel):
    target: DatabaseTarget
    secret_names: list[str]


class JobSecretInput(BaseModel):
    """A secret this job writes; `labels` carry the job id so a retry recognises its own secret."""

    name: str
    labels: dict[str, str]
    staged_password_secret: str | None = None


class ConnectionStringInput(BaseModel):
    secret: JobSecretInput
    target: DatabaseTarget
    password_secret: str


class RoleInput(BaseModel):
    target: DatabaseTarget
    password_secret: str


class OwnedSecret(BaseModel):
    name: str
    job_id: str
