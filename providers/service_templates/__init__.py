"""External-service templates (seed 000 §2): health checks and operations per service type.

Callers (API routers, Temporal activities) build a ServiceConnection with secret values
already resolved, then use `get_template(type).health_check(conn)` or
`.execute_operation(conn, operation, params)`. Errors: UnknownOperationError and
InvalidOperationParams are the caller's fault (HTTP 400), ExternalServiceError is the
service's (HTTP 502); all messages are free of credentials.
"""

from providers.service_templates.base import ExternalServiceTemplate
from providers.service_templates.catalog import (
    SUPPORTED_TYPES,
    available_operations,
    get_template,
    url_scheme_problem,
)
from providers.service_templates.errors import (
    AuthenticationFailed,
    ExternalServiceError,
    ExternalServiceOperationError,
    InvalidOperationParams,
    UnknownOperationError,
    redact,
)
from providers.service_templates.postgres import PostgresTemplate, connection_string
from providers.service_templates.types import (
    ExternalServiceType,
    HealthCheckResult,
    ServiceConnection,
)

__all__ = [
    "SUPPORTED_TYPES",
    "AuthenticationFailed",
    "ExternalServiceError",
    "ExternalServiceOperationError",
    "ExternalServiceTemplate",
    "ExternalServiceType",
    "HealthCheckResult",
    "InvalidOperationParams",
    "PostgresTemplate",
    "ServiceConnection",
    "UnknownOperationError",
    "available_operations",
    "connection_string",
    "get_template",
    "redact",
    "url_scheme_problem",
]
