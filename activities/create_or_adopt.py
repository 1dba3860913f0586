"""Creating a resource that another request may be creating at the same moment: a create answered
"already exists" reads the resource again and hands it to the caller, who checks it exactly as one
found before the create (its ownership mark, its configuration). A race and a repeat end the same
way, and neither ever fails with "already exists" for a resource the caller may adopt."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from temporalio.exceptions import ApplicationError

T = TypeVar("T")
# The failure type providers give an "already exists" answer (providers/google/errors.py).
ALREADY_EXISTS = "AlreadyExists"


async def create_or_adopt(
    what: str,
    get: Callable[[], Awaitable[T | None]],
    create: Callable[[], Awaitable[T]],
) -> T:
    found = await get()
    if found is not None:
        return found
    try:
        return await create()
    except ApplicationError as error:
        if error.type != ALREADY_EXISTS:
            raise
    found = await get()
    if found is None:
        # Still being created by the other request (its operation is not done): the next attempt
        # finds it.
        raise ApplicationError(
            f"{what}: another request is creating it at the same time; retried", type="Conflict"
        )
    return found
