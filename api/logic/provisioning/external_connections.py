"""A template ServiceConnection for a registered external service, its secret refs resolved.

`connection_for(row, settings)` is the one way the API turns an `external_services` row into
something a template can use: every `secret_refs` entry (credential role → secret name) is read
from Secret Manager, in threads, concurrently. Secret values live only inside the returned
connection (kept out of its repr); they are never logged and never put into an error.

Errors are ApiErrors, so a router may simply let them through:
- SecretRefsMissing (409, `details.missing`: secret names) when a referenced secret does not exist
  or has no accessible version; create/update catch it and answer 400 instead;
- 409 for a row whose type has no template; 503/502 when Secret Manager itself fails.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Mapping

from google.api_core import exceptions as gexc

from api.errors import ApiError
from core.settings import Settings
from providers.google.secret_manager import SecretStore
from providers.service_templates import SUPPORTED_TYPES, ServiceConnection
from providers.service_templates.connections import connection_from_row
from store.provisioning.models import ExternalService

SECRET_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,255}$"
_SECRET_NAME = re.compile(SECRET_NAME_PATTERN)


class SecretRefsMissing(ApiError):
    def __init__(self, missing: Iterable[str], status: int = 409) -> None:
        self.missing = sorted(set(missing))
        super().__init__(
            status,
            "secret(s) not found in Secret Manager (or without an enabled version): "
            + ", ".join(self.missing),
            details={"missing": self.missing},
        )


def _valid_name(name: object) -> bool:
    return isinstance(name, str) and bool(_SECRET_NAME.fullmatch(name))


async def _access(store: SecretStore, name: str) -> str | None:
    """The latest value, or None when the secret (or its latest version) does not exist."""
    try:
        return await asyncio.to_thread(store.access, name)
    except (gexc.NotFound, gexc.FailedPrecondition):
        # FailedPrecondition: the latest version exists but is disabled or destroyed.
        return None
    except (gexc.ServiceUnavailable, gexc.TooManyRequests, gexc.DeadlineExceeded):
        raise ApiError(
            503, f"Secret Manager unavailable reading secret {name}; retry later"
        ) from None
    except gexc.GoogleAPICallError as error:
        raise ApiError(
            502,
            f"Secret Manager error reading secret {name}",
            details={"upstream": error.message},
        ) from None


async def resolve_secret_refs(refs: Mapping[str, object], settings: Settings) -> dict[str, str]:
    """Role → secret VALUE for every ref; SecretRefsMissing names every ref that cannot be read."""
    store = SecretStore(settings)
    names = {role: name for role, name in refs.items() if _valid_name(name)}
    missing = {str(name) for role, name in refs.items() if role not in names}
    unique = sorted(set(names.values()))
    values = dict(
        zip(unique, await asyncio.gather(*(_access(store, n) for n in unique)), strict=True)
    )
    missing |= {name for name, value in values.items() if value is None}
    if missing:
        raise SecretRefsMissing(missing)
    return {str(role): str(values[name]) for role, name in names.items()}


async def connection_for(row: ExternalService, settings: Settings) -> ServiceConnection:
    """The row's connection with every secret ref resolved to its latest value."""
    if row.type not in SUPPORTED_TYPES:
        raise ApiError(
            409,
            f"external service {row.name} has type {row.type!r:.40}, which has no template",
            details={"type": row.type, "valid_types": [t.value for t in SUPPORTED_TYPES]},
        )
    credentials = await resolve_secret_refs(dict(row.secret_refs or {}), settings)
    return connection_from_row(row, credentials)
