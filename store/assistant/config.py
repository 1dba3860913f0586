"""The assistant's configuration document as stored (one for the platform)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from store.assistant.models import AssistantConfig

_ID = "default"


async def read(session: AsyncSession) -> dict[str, Any] | None:
    row = await session.get(AssistantConfig, _ID)
    return dict(row.document) if row is not None else None


async def write(session: AsyncSession, document: dict[str, Any]) -> None:
    row = await session.get(AssistantConfig, _ID, with_for_update=True)
    if row is None:
        session.add(AssistantConfig(id=_ID, document=document))
    else:
        row.document = document
    await session.flush()
