"""What `GET /api/metrics` counts in the platform's tables: open alerts by kind, external services by
health, the hosting system's Docker services and VMs, and the assistant's messages and tool calls.
Counts only: no row leaves here."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.assistant.models import Message
from store.hosting.models import HostingService, HostingVm
from store.oversight.models import Alert
from store.provisioning.models import ExternalService


async def open_alerts(session: AsyncSession) -> dict[str, int]:
    """Open (unresolved) alerts by kind."""
    rows = await session.execute(
        select(Alert.kind, func.count()).where(Alert.resolved_at.is_(None)).group_by(Alert.kind)
    )
    return {kind: count for kind, count in rows.all()}


async def external_health(session: AsyncSession) -> dict[str, int]:
    """Active external services by their last health check (`unchecked` when never checked)."""
    rows = await session.execute(
        select(ExternalService.health_status, func.count())
        .where(ExternalService.active.is_(True))
        .group_by(ExternalService.health_status)
    )
    return {status or "unchecked": count for status, count in rows.all()}


async def hosting_counts(session: AsyncSession) -> dict[str, int]:
    services = await session.scalar(select(func.count()).select_from(HostingService))
    vms = await session.scalar(select(func.count()).select_from(HostingVm))
    return {"docker_services": services or 0, "vms": vms or 0}


async def assistant_counts(session: AsyncSession) -> dict[str, int]:
    """Messages of every conversation, and the tool calls the turns' answers made."""
    messages = await session.scalar(select(func.count()).select_from(Message))
    calls = 0
    rows = await session.execute(
        select(Message.tool_calls).where(
            Message.role == "assistant", Message.tool_calls.is_not(None)
        )
    )
    for (tool_calls,) in rows.all():
        calls += len(tool_calls or [])
    return {"messages": messages or 0, "tool_calls": calls}
