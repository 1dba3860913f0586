"""Builds a template ServiceConnection for a registered external service, resolving its secret refs."""

from __future__ import annotations

import asyncio

from activities.external_services import ExternalServiceType, ServiceConnection
from activities.secret_manager import SecretStore
from store.models import ExternalService


async def connection_for(row: ExternalService, secrets: SecretStore) -> ServiceConnection:
    refs: dict[str, str] = dict(row.secret_refs or {})
    values = await asyncio.gather(
        *(asyncio.to_thread(secrets.access, name) for name in refs.values())
    )
    return ServiceConnection(
        name=row.name,
        type=ExternalServiceType(row.type),
        url=row.url or "",
        credentials=dict(zip(refs.keys(), values, strict=True)),
        metadata=dict(row.service_metadata or {}),
    )
