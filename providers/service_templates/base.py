"""The contract every external-service template implements: a health check and named operations."""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, ClassVar, Literal

from providers.service_templates.errors import (
    ExternalServiceError,
    ExternalServiceOperationError,
    InvalidOperationParams,
    UnknownOperationError,
    redact,
)
from providers.service_templates.params import Params
from providers.service_templates.types import (
    ExternalServiceType,
    HealthCheckResult,
    ServiceConnection,
)
from providers.service_templates.values import to_jsonable

HealthStatus = Literal["healthy", "unhealthy", "unknown"]

# Short enough that the API's details endpoint answers promptly when a service is down.
HEALTH_TIMEOUT_SECONDS = 5.0
# Long enough for a real query, short enough that a hung server does not pin an activity.
OPERATION_TIMEOUT_SECONDS = 30.0
# Rows returned by any query-like operation; more are reported as `truncated`.
MAX_ROWS = 1000


class Health:
    """What a template's probe found; the base class turns it into a HealthCheckResult."""

    def __init__(
        self, status: HealthStatus, message: str, details: dict[str, Any] | None = None
    ) -> None:
        self.status = status
        self.message = message
        self.details = details or {}


class ExternalServiceTemplate(ABC):
    """One kind of external service.

    Templates are stateless: every call opens its own connection from the ServiceConnection
    and closes it, so an instance is shared by every caller (API requests, Temporal activities).
    """

    service_type: ClassVar[ExternalServiceType]
    operations: ClassVar[tuple[str, ...]] = ()
    health_timeout: ClassVar[float] = HEALTH_TIMEOUT_SECONDS
    operation_timeout: ClassVar[float] = OPERATION_TIMEOUT_SECONDS
    # The URL schemes this type is reached with: a registered URL with another scheme (`file://`,
    # `javascript:`, `redis://` for Postgres) is refused, since credentials would be sent there.
    url_schemes: ClassVar[tuple[str, ...]] = ()
    # Whether SQLAlchemy-style `scheme+driver://` variants of url_schemes are accepted too.
    url_scheme_drivers: ClassVar[bool] = False

    @classmethod
    def accepts_url_scheme(cls, scheme: str) -> bool:
        scheme = scheme.lower()
        base, plus, driver = scheme.partition("+")
        return scheme in cls.url_schemes or (
            cls.url_scheme_drivers and bool(plus and driver) and base in cls.url_schemes
        )

    @abstractmethod
    async def probe(self, conn: ServiceConnection) -> Health:
        """Reach the service once; may raise, health_check() turns errors into 'unhealthy'."""

    async def health_check(self, conn: ServiceConnection) -> HealthCheckResult:
        """Never raises: failures become 'unhealthy' with a message free of secrets."""
        started = time.monotonic()
        try:
            health = await asyncio.wait_for(self.probe(conn), self.health_timeout)
        except TimeoutError:
            health = Health("unhealthy", f"no answer within {self.health_timeout:g} s")
        except ExternalServiceOperationError as exc:
            health = Health("unhealthy", exc.message)
        except Exception as exc:  # noqa: BLE001 - a health check reports, it does not raise
            health = Health("unhealthy", describe_exception(exc))
        details = dict(health.details)
        details.setdefault("latency_ms", round((time.monotonic() - started) * 1000, 1))
        secrets = conn.secret_values()
        return HealthCheckResult(
            service_name=conn.name,
            status=health.status,
            message=redact(health.message, secrets),
            details=to_jsonable(_redact_tree(details, secrets)),
        )

    async def execute_operation(
        self, conn: ServiceConnection, operation: str, params: Mapping[str, Any] | None = None
    ) -> Any:
        """Run `operation`; raises UnknownOperationError, InvalidOperationParams or
        ExternalServiceError, whose messages are safe to return to a client."""
        handler = self._handler(operation)
        reader = Params(params)
        secrets = conn.secret_values()
        try:
            result = await asyncio.wait_for(handler(conn, reader), self.operation_timeout)
        except ExternalServiceOperationError as exc:
            exc.message = redact(exc.message, secrets)
            exc.args = (exc.message,)
            raise
        except TimeoutError:
            raise ExternalServiceError(
                f"{operation} did not finish within {self.operation_timeout:g} s"
            ) from None
        except Exception as exc:
            # `from None`: the driver's exception (and its traceback locals) may carry the DSN,
            # and Temporal serialises the whole cause chain into workflow history.
            raise ExternalServiceError(redact(describe_exception(exc), secrets)) from None
        return to_jsonable(result)

    def available_operations(self) -> list[str]:
        return list(self.operations)

    def _handler(self, operation: str) -> Callable[[ServiceConnection, Params], Awaitable[Any]]:
        if not isinstance(operation, str) or operation not in self.operations:
            raise UnknownOperationError(str(operation), self.operations)
        handler = getattr(self, f"op_{operation}", None)
        if handler is None:  # pragma: no cover - guarded by a test over every template
            raise UnknownOperationError(operation, self.operations)
        return handler


def describe_exception(exc: BaseException) -> str:
    """`ClassName: message` for an unexpected error (the caller still redacts it)."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _redact_tree(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, Mapping):
        return {k: _redact_tree(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_tree(v, secrets) for v in value]
    return value


def require_credential(conn: ServiceConnection, *roles: str) -> str:
    """The first present credential among `roles`, else a 400-style error naming them."""
    for role in roles:
        value = conn.credentials.get(role)
        if value:
            return value
    names = " or ".join(f"credentials.{r}" for r in roles)
    raise InvalidOperationParams(
        f"service {conn.name!r} has no {names} configured", field=f"credentials.{roles[0]}"
    )
