"""A template ServiceConnection for a registered external service, its secret refs resolved.

The one way any caller (an API read, an activity) turns an `external_services` row into something a
template can use: every `secret_refs` entry (credential role → secret name) is read from Secret
Manager, in threads, concurrently. Secret values live only inside the returned connection (kept out
of its repr); they are never logged and never put into an error.

Errors: SecretRefsMissing names every ref that does not exist or has no enabled version; any other
Secret Manager failure propagates as google's exception for the caller to map (the API to 502/503,
an activity to a retry or a final failure); NoTemplate for a row whose type has no template.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Mapping

from google.api_core import exceptions as gexc

from providers.google.secret_manager import SECRET_NAME_PATTERN, SecretStore
from providers.service_templates.catalog import SUPPORTED_TYPES
from providers.service_templates.types import ExternalServiceType, ServiceConnection
from store.provisioning.models import ExternalService

_SECRET_NAME = re.compile(SECRET_NAME_PATTERN)


class SecretRefsMissing(Exception):
    def __init__(self, missing: Iterable[str]) -> None:
        self.missing = sorted(set(missing))
        super().__init__(
            "secret(s) not found in Secret Manager (or without an enabled version): "
            + ", ".join(self.missing)
        )


class NoTemplate(Exception):
    def __init__(self, service_type: str) -> None:
        self.service_type = service_type
        super().__init__(f"type {service_type!r:.40} has no template")


def _valid_name(name: object) -> bool:
    return isinstance(name, str) and bool(_SECRET_NAME.fullmatch(name))


def _latest_or_none(store: SecretStore, name: str) -> str | None:
    try:
        return store.access(name)
    except (gexc.NotFound, gexc.FailedPrecondition):
        # FailedPrecondition: the latest version exists but is disabled or destroyed.
        return None


async def resolve_secret_refs(refs: Mapping[str, object], store: SecretStore) -> dict[str, str]:
    """Role → secret VALUE for every ref; SecretRefsMissing names every ref that cannot be read."""
    names = {role: name for role, name in refs.items() if _valid_name(name)}
    missing = {str(name) for role, name in refs.items() if role not in names}
    unique = sorted(set(names.values()))
    found = await asyncio.gather(*(asyncio.to_thread(_latest_or_none, store, n) for n in unique))
    values = dict(zip(unique, found, strict=True))
    missing |= {name for name, value in values.items() if value is None}
    if missing:
        raise SecretRefsMissing(missing)
    return {str(role): str(values[name]) for role, name in names.items()}


def connection_from_row(row: ExternalService, credentials: dict[str, str]) -> ServiceConnection:
    """`credentials` maps each of the row's credential roles to its secret's value."""
    return ServiceConnection(
        name=row.name,
        type=ExternalServiceType(row.type),
        url=row.url or "",
        credentials=credentials,
        metadata=dict(row.service_metadata or {}),
    )


async def connection_for(row: ExternalService, store: SecretStore) -> ServiceConnection:
    """The row's connection with every secret ref resolved to its latest value."""
    if row.type not in SUPPORTED_TYPES:
        raise NoTemplate(row.type)
    credentials = await resolve_secret_refs(dict(row.secret_refs or {}), store)
    return connection_from_row(row, credentials)
