"""Hosting VMs as stored (seed 001): the VMID reservation behind `POST /vm`, the row's changes, and
the clone slots that bound the clones running at once on one Proxmox node."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from store.db import Database
from store.hosting.models import HostingCloneSlot, HostingUser, HostingVm
from store.models import utcnow

# VMIDs PVE accepts for guests (100 … 999 999 999).
FIRST_VMID = 100
LAST_VMID = 999_999_999


class UnknownUser(Exception):
    """No hosting user has this `userid`."""


def _aware(value: datetime) -> datetime:
    # SQLite gives back naive datetimes; they were written in UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def highest_vmid(session: AsyncSession) -> int | None:
    return await session.scalar(select(func.max(HostingVm.id)))


async def of_job(session: AsyncSession, job_id: str) -> HostingVm | None:
    return await session.scalar(select(HostingVm).where(HostingVm.job_id == job_id))


async def reserve(
    session: AsyncSession, vm_id: int, job_id: str, **columns: object
) -> HostingVm | None:
    """Inserts the VM's row (status `creating`) under `vm_id` for the create job; None when
    another create holds that id already (the primary key decides, also between API processes).
    The job's row when it has one already (a repeated request). Rows are never deleted (a deleted
    VM's row is marked), so an id is reserved once for good."""
    if await session.get(HostingVm, vm_id) is not None:
        return await of_job(session, job_id)
    row = HostingVm(id=vm_id, status="creating", job_id=job_id, **columns)
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        return await of_job(session, job_id)
    return row


async def user_exists(session: AsyncSession, userid: str) -> bool:
    return await session.get(HostingUser, userid) is not None


async def get(session: AsyncSession, vm_id: int) -> HostingVm | None:
    return await session.get(HostingVm, vm_id)


async def update(db: Database, vm_id: int, job_id: str | None, **changes: object) -> bool:
    """Applies the changes given (None values skipped); with `job_id`, only while the row is that
    job's. False when there is no such row."""
    async with db.transaction() as session:
        row = await session.get(HostingVm, vm_id)
        if row is None or (job_id is not None and row.job_id != job_id):
            return False
        for column, value in changes.items():
            if value is not None:
                setattr(row, column, value)
        return True


async def take_clone_slot(
    db: Database, node: str, job_id: str, slots: int, lease: timedelta
) -> int | None:
    """A free clone slot on the node for the job (the one it holds already, its lease renewed), or
    None when all `slots` are held by other jobs with live leases."""
    now = utcnow()
    async with db.transaction() as session:
        held = list(
            await session.scalars(select(HostingCloneSlot).where(HostingCloneSlot.node == node))
        )
        for row in held:
            if row.job_id == job_id:
                row.lease_until = now + lease
                return row.slot
        taken = {row.slot for row in held if _aware(row.lease_until) > now}
        expired = [row for row in held if _aware(row.lease_until) <= now]
        free = [slot for slot in range(slots) if slot not in taken]
        if not free:
            return None
        for row in expired:
            await session.delete(row)
        await session.flush()
        try:
            async with session.begin_nested():
                session.add(
                    HostingCloneSlot(
                        node=node, slot=free[0], job_id=job_id, lease_until=now + lease
                    )
                )
                await session.flush()
        except IntegrityError:
            # Another job took it meanwhile: the caller asks again.
            return None
        return free[0]


async def renew_clone_slot(db: Database, node: str, job_id: str, lease: timedelta) -> None:
    async with db.transaction() as session:
        for row in await session.scalars(
            select(HostingCloneSlot).where(
                HostingCloneSlot.node == node, HostingCloneSlot.job_id == job_id
            )
        ):
            row.lease_until = utcnow() + lease


async def give_back_clone_slot(db: Database, node: str, job_id: str) -> None:
    async with db.transaction() as session:
        await session.execute(
            delete(HostingCloneSlot).where(
                HostingCloneSlot.node == node, HostingCloneSlot.job_id == job_id
            )
        )


async def give_back_clone_slots_of_job(db: Database, job_id: str) -> int:
    """Every clone slot the job holds, on any node (a terminated job's, which never gave it back)."""
    async with db.transaction() as session:
        result = await session.execute(
            delete(HostingCloneSlot).where(HostingCloneSlot.job_id == job_id)
        )
        return result.rowcount or 0
