"""Hosting users: create one (409 when the id is taken) and read one with its services and VMs."""

from __future__ import annotations

from api.errors import ApiError, not_found
from api.schemas.hosting.users import HostingUser, UserCreate, UserDetail, UserService, UserVm
from store.db import Database
from store.hosting import users as store


async def create(db: Database, body: UserCreate) -> HostingUser:
    try:
        async with db.transaction() as session:
            row = await store.create(session, body.userid, body.username)
            return HostingUser.model_validate(row, from_attributes=True)
    except store.UserTaken:
        raise ApiError(
            409,
            f"user {body.userid} already exists",
            code="user_exists",
            details={"userid": body.userid},
        ) from None


async def detail(db: Database, userid: str) -> UserDetail:
    async with db.transaction() as session:
        found = await store.find(session, userid)
    if found is None:
        raise not_found("user", userid=userid)
    user, services, vms = found
    service_views = [UserService.model_validate(s, from_attributes=True) for s in services]
    vm_views = [UserVm.model_validate(v, from_attributes=True) for v in vms]
    return UserDetail(
        userid=user.userid,
        username=user.username,
        created_at=user.created_at,
        services=service_views,
        vms=vm_views,
        access_urls=[item.access_url for item in (*service_views, *vm_views) if item.access_url],
    )
