"""Builds a template ServiceConnection for a registered external service, resolving its secret refs."""

from __future__ import annotations

import asyncio

from providers.google.secret_manager import SecretStore
from providers.service_templates import ExternalServiceType, ServiceConnection
from store.provisioning.models import ExternalService


def connection_from_row(row: ExternalService, credentials: dict[str, str]) -> ServiceConnection:
    """`credentials` maps each of the row's credential roles to its secret's value."""
    return ServiceConnection(
        name=row.name,
        type=ExternalServiceType(row.type),
        url=row.url or "",
        credentials=credentials,
        metadata=dict(row.service_metadata or {}),
    )


async def connection_for(row: ExternalService, secrets: SecretStore) -> ServiceConnection:
    """For activities: Secret Manager errors propagate, so Temporal retries or fails the step."""
    refs: dict[str, str] = dict(row.secret_refs or {})
    values = await asyncio.gather(
        *(asyncio.to_thread(secrets.access, name) for name in refs.values())
    )
    return connection_from_row(row, dict(zip(refs.keys(), values, strict=True)))
