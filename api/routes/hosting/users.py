"""`POST /users` (a form: `userid`, `username`) and `GET /users/{userid}` (the user with their
services, VMs and access URLs): seed 001's users, `hosting` scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path, status

from api.auth import HostingScope
from api.deps import DbDep
from api.errors import DESCRIPTIONS, answers
from api.http import JsonRouter
from api.logic.hosting import users as logic
from api.schemas.hosting.users import USERID_PATTERN, HostingUser, UserCreate, UserDetail

router = JsonRouter(prefix="/users", tags=["hosting"], responses=answers(400, 401, 403))

UserId = Annotated[str, Path(pattern=USERID_PATTERN, description="The user's id.")]
_NOT_A_FORM = {
    415: {**answers(415)[415], "description": DESCRIPTIONS[415].replace("JSON", "a form")}
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=HostingUser,
    responses={**answers(409, 413), **_NOT_A_FORM},
)
async def create_user(
    body: Annotated[UserCreate, Form()], _: HostingScope, db: DbDep
) -> HostingUser:
    """Creates a user; 409 `user_exists` when the `userid` is taken."""
    return await logic.create(db, body)


@router.get("/{userid}", response_model=UserDetail, responses=answers(404))
async def get_user(userid: UserId, _: HostingScope, db: DbDep) -> UserDetail:
    return await logic.detail(db, userid)
