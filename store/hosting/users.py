"""Hosting users and what they own, as stored (seed 001)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from store.hosting.models import HostingService, HostingUser, HostingVm


class UserTaken(Exception):
    """A user with this `userid` exists already."""


async def create(session: AsyncSession, userid: str, username: str) -> HostingUser:
    """Adds the user; raises UserTaken when the id is in use (also when another request took it
    meanwhile: the primary key decides)."""
    if await session.get(HostingUser, userid) is not None:
        raise UserTaken(userid)
    row = HostingUser(userid=userid, username=username)
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:
        raise UserTaken(userid) from None
    return row


async def find(
    session: AsyncSession, userid: str
) -> tuple[HostingUser, list[HostingService], list[HostingVm]] | None:
    user = await session.get(HostingUser, userid)
    if user is None:
        return None
    services = await session.scalars(
        select(HostingService).where(HostingService.userid == userid).order_by(HostingService.id)
    )
    vms = await session.scalars(
        select(HostingVm).where(HostingVm.userid == userid).order_by(HostingVm.id)
    )
    return user, list(services.all()), list(vms.all())
