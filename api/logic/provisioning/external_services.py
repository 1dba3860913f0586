"""External services behind the router: looking rows up, resolving their secret refs, live health
checks, and running template operations with their gating and result scrubbing.

Errors are ApiErrors, so the router simply lets them through:
- a referenced secret that does not exist (or has no enabled version): 409 `details.missing` for a
  registered row, 400 for refs the caller just sent;
- a row whose type has no template: 409; Secret Manager failing: 502/503 (`api.cloud.upstream`).
"""

from __future__ import annotations

import uuid
from typing import Any

import structlog

from api.auth import Principal
from api.cloud import upstream
from api.errors import ApiError, not_found
from api.logic.provisioning.secret_access import SecretUse
from core.settings import Settings
from providers.google.secret_manager import SecretStore
from providers.service_templates import (
    SUPPORTED_TYPES,
    ExternalServiceOperationError,
    HealthCheckResult,
    InvalidOperationParams,
    ServiceConnection,
    UnknownOperationError,
    available_operations,
    get_template,
    url_scheme_problem,
)
from providers.service_templates.connections import (
    SecretRefsMissing,
    connection_from_row,
    resolve_secret_refs,
)
from store.db import Database
from store.provisioning import external_services, secret_audit
from store.provisioning.models import ExternalService

log = structlog.get_logger(__name__)

# Operations that run arbitrary statements on the service: admin only.
ADMIN_OPERATIONS = frozenset({"execute_query"})
# Operations offered as jobs elsewhere, because they must keep credentials in Secret Manager.
JOB_OPERATIONS = {
    "create_service_database": "POST /api/v1/external-services/{service_id}/create_service_database",
}
# Shorter secret values are not scrubbed from results: they would mangle ordinary data.
MIN_SCRUBBED_LENGTH = 8
VALID_TYPES = [t.value for t in SUPPORTED_TYPES]


def missing_secrets(error: SecretRefsMissing, status: int) -> ApiError:
    return ApiError(status, str(error), details={"missing": error.missing})


async def get_row(db: Database, service_id: uuid.UUID) -> ExternalService:
    async with db.transaction() as session:
        row = await external_services.by_id(session, service_id)
    if row is None:
        raise not_found("external service", service_id=str(service_id))
    return row


async def read_refs(refs: dict[str, Any], settings: Settings, use: SecretUse) -> dict[str, str]:
    """Role → value of every ref, each read audited; SecretRefsMissing names the absent ones."""
    names = [n for n in refs.values() if isinstance(n, str)]
    try:
        with upstream("reading the referenced secrets"):
            values = await resolve_secret_refs(refs, SecretStore(settings))
    except SecretRefsMissing as error:
        await use.record(error.missing, secret_audit.NOT_FOUND)
        await use.record(set(names) - set(error.missing), secret_audit.OK)
        raise
    except ApiError:
        await use.record(names, secret_audit.UPSTREAM_ERROR)
        raise
    await use.record(names, secret_audit.OK)
    return values


async def credentials_for_request(
    refs: dict[str, str], settings: Settings, use: SecretUse
) -> dict[str, str]:
    """Resolves refs a caller just sent: a missing secret is the caller's mistake (400)."""
    try:
        return await read_refs(refs, settings, use)
    except SecretRefsMissing as error:
        raise missing_secrets(error, 400) from None


def check_url_scheme(service_type: str, url: str | None) -> None:
    """The update-time twin of the create schema's check: the row's type decides the schemes."""
    problem = url_scheme_problem(service_type, url) if url and service_type in VALID_TYPES else None
    if problem:
        raise ApiError(
            400,
            f"invalid request: url: {problem}",
            details={"fields": [{"field": "url", "message": problem}]},
        )


async def authorize_refs(
    current: ExternalService | None, changes: dict[str, Any], use: SecretUse
) -> None:
    """Naming secret refs, or pointing a service that has refs at another URL, is referencing those
    secrets: it needs the secrets scope (the URL is where their values will be sent)."""
    refs = changes.get("secret_refs", dict(current.secret_refs or {}) if current else {})
    moves = current is not None and "url" in changes and changes["url"] != current.url
    if changes.get("secret_refs") or (moves and refs):
        await use.authorize(str(name) for name in refs.values())


async def connection(row: ExternalService, settings: Settings, use: SecretUse) -> ServiceConnection:
    if row.type not in SUPPORTED_TYPES:
        raise ApiError(
            409,
            f"external service {row.name} has type {row.type!r:.40}, which has no template",
            details={"type": row.type, "valid_types": VALID_TYPES},
        )
    try:
        credentials = await read_refs(dict(row.secret_refs or {}), settings, use)
    except SecretRefsMissing as error:
        raise missing_secrets(error, 409) from None
    return connection_from_row(row, credentials)


async def health(
    settings: Settings,
    use: SecretUse,
    *,
    name: str,
    service_type: str,
    url: str | None,
    secret_refs: dict[str, Any],
    metadata: dict[str, Any],
    credentials: dict[str, str] | None = None,
) -> HealthCheckResult:
    """A live health check that never raises; missing secrets make the service unhealthy."""
    if service_type not in SUPPORTED_TYPES:
        return HealthCheckResult(
            service_name=name,
            status="unknown",
            message=f"no template for type {service_type!r:.40}",
        )
    if credentials is None:
        try:
            credentials = await read_refs(secret_refs, settings, use)
        except SecretRefsMissing as error:
            return HealthCheckResult(
                service_name=name,
                status="unhealthy",
                message=str(error),
                details={"missing_secrets": error.missing},
            )
    conn = ServiceConnection(
        name=name, type=service_type, url=url or "", credentials=credentials, metadata=metadata
    )
    return await get_template(service_type).health_check(conn)


async def row_health(row: ExternalService, settings: Settings, use: SecretUse) -> HealthCheckResult:
    return await health(
        settings,
        use,
        name=row.name,
        service_type=row.type,
        url=row.url,
        secret_refs=dict(row.secret_refs or {}),
        metadata=dict(row.service_metadata or {}),
    )


async def record_health(db: Database, row: ExternalService, result: HealthCheckResult) -> None:
    async with db.transaction() as session:
        await external_services.record_health(session, row.id, result.status, result.checked_at)
    row.health_status = result.status
    row.last_health_check = result.checked_at
    log.info("external service health", service=row.name, status=result.status)


def operations_for(service_type: str) -> list[str]:
    return available_operations(service_type) if service_type in SUPPORTED_TYPES else []


def _scrub(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, "***")
        return value
    if isinstance(value, dict):
        return {_scrub(k, secrets): _scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v, secrets) for v in value]
    return value


def _sensitive_values(conn: ServiceConnection) -> list[str]:
    """Secret values to scrub from results, longest first; a username is not one of them."""
    username = conn.credentials.get("username")
    others = {v for role, v in conn.credentials.items() if role != "username"}
    values = {v for v in conn.secret_values() if v != username or v in others}
    return sorted((v for v in values if len(v) >= MIN_SCRUBBED_LENGTH), key=len, reverse=True)


def _check_allowed(row: ExternalService, operation: str, principal: Principal) -> list[str]:
    if not row.active:
        raise ApiError(
            409,
            f"external service {row.name} is inactive; activate it with PUT to run operations",
            details={"service": row.name, "active": False},
        )
    valid = operations_for(row.type)
    if operation not in valid:
        error = UnknownOperationError(operation, valid)
        raise ApiError(
            400, error.message, details={"operation": operation[:64], "valid_operations": valid}
        )
    if operation in JOB_OPERATIONS:
        use = JOB_OPERATIONS[operation].format(service_id=row.id)
        raise ApiError(
            400,
            f"{operation} runs as a job: use {use}",
            details={"operation": operation, "use": use},
        )
    if operation in ADMIN_OPERATIONS and not principal.has("admin"):
        raise ApiError(
            403,
            f"{operation} needs an API key with the 'admin' scope",
            details={"scope": "admin", "operation": operation},
        )
    return valid


async def run_operation(
    row: ExternalService,
    operation: str,
    params: dict[str, Any],
    principal: Principal,
    settings: Settings,
    use: SecretUse,
) -> Any:
    """Runs a template operation; its result and errors are scrubbed of the service's secrets."""
    valid = _check_allowed(row, operation, principal)
    conn = await connection(row, settings, use)
    try:
        result = await get_template(row.type).execute_operation(conn, operation, params)
    except UnknownOperationError as error:
        raise ApiError(
            400, error.message, details={"operation": operation, "valid_operations": valid}
        ) from None
    except InvalidOperationParams as error:
        raise ApiError(400, error.message, details={"field": error.field}) from None
    except ExternalServiceOperationError as error:  # ExternalServiceError and anything new
        message = _scrub(error.message, _sensitive_values(conn))
        log.warning(
            "external service operation failed",
            service=row.name,
            operation=operation,
            error_type=type(error).__name__,
        )
        raise ApiError(
            502,
            f"{row.name}: {message}",
            details={
                "service": row.name,
                "operation": operation,
                "retryable": bool(getattr(error, "retryable", False)),
            },
        ) from None
    return _scrub(result, _sensitive_values(conn))
