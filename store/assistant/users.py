"""Console users as stored: found by name, and the first admin created once."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from store.assistant.models import ConsoleUser


async def find(session: AsyncSession, username: str) -> ConsoleUser | None:
    return await session.get(ConsoleUser, username)


async def ensure(session: AsyncSession, username: str, password_hash: str, *, admin: bool) -> bool:
    """Adds the user unless one of that name exists (its password is then left as it is);
    answers whether it was added. Two API processes racing: the primary key decides."""
    if await session.get(ConsoleUser, username) is not None:
        return False
    session.add(ConsoleUser(username=username, password_hash=password_hash, is_admin=admin))
    try:
        await session.flush()
    except IntegrityError:
        return False
    return True
