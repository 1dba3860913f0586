"""Hosted Docker services as stored (seed 001's `service_id` is the row's id): the API adds the row
before the create job starts (so the answer carries the id, and a taken name is a 409 at once); the
jobs update its state, and remove it on delete or when the create is undone."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from store.hosting.models import HostingService, HostingUser


class NameTaken(Exception):
    """The user has a service of this name already."""


class UnknownUser(Exception):
    """No hosting user has this id."""


async def create(
    session: AsyncSession,
    *,
    userid: str,
    service_name: str,
    service_types: list[str],
    primary_app_type: str,
    job_id: str,
) -> HostingService:
    if await session.get(HostingUser, userid) is None:
        raise UnknownUser(userid)
    taken = await session.scalar(
        select(HostingService.id).where(
            HostingService.userid == userid, HostingService.service_name == service_name
        )
    )
    if taken is not None:
        raise NameTaken(service_name)
    row = HostingService(
        userid=userid,
        service_name=service_name,
        service_types=list(service_types),
        primary_app_type=primary_app_type,
        status="creating",
        job_id=job_id,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:
        raise NameTaken(service_name) from None
    return row


async def get(session: AsyncSession, service_id: int) -> HostingService | None:
    return await session.get(HostingService, service_id)


async def update(session: AsyncSession, service_id: int, **values) -> bool:
    row = await session.get(HostingService, service_id)
    if row is None:
        return False
    for key, value in values.items():
        setattr(row, key, value)
    return True


async def remove(session: AsyncSession, service_id: int, job_id: str | None = None) -> bool:
    """Deletes the row; with `job_id`, only while it is that job's (a create being undone)."""
    statement = delete(HostingService).where(HostingService.id == service_id)
    if job_id is not None:
        statement = statement.where(HostingService.job_id == job_id)
    return (await session.execute(statement)).rowcount > 0


async def id_of_job(session: AsyncSession, job_id: str) -> int | None:
    return await session.scalar(select(HostingService.id).where(HostingService.job_id == job_id))
