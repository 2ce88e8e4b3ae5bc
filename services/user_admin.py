"""Managing accounts: create, disable, enable, delete, reset a password; and changing one's own password.

Each of these but enabling ends every session of the user at once (the token
generation moves on, storage/sessions.py), and each is audited with who did it.
Who may manage whom is domain/user_admin.py: another city's user is "not
found", a user of the caller's city they may not manage is "forbidden".
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from domain.plans import Quota
from domain.rbac import Principal, Role
from domain.user import User
from domain.user_admin import is_visible_to, may_manage, role_change_refusal
from services.refusals import Conflict, NotAllowed, NotFound
from storage import audit, plans, users


async def manageable(pool: asyncpg.Pool, caller: Principal, user_id: UUID) -> User:
    """The user, if the caller may manage them."""
    target = await users.get(pool, user_id)
    if target is None or not is_visible_to(caller, target):
        raise NotFound("user not found")
    if not may_manage(caller, target):
        raise NotAllowed(f"a {caller.role.value} may not manage a {target.role.value}")
    return target


async def create(pool: asyncpg.Pool, caller: Principal, *, username: str, password_hash: str, role: Role,
                 tenant_id: UUID | None) -> User:
    """A new user (the API checked the caller may create this role here); a city's user only within its plan's
    quota. The row and its audit row (``user.created``) commit together."""
    if tenant_id is None:
        async with pool.acquire() as conn, conn.transaction():
            return await _created(conn, caller, username, password_hash, role, None)
    quota = Quota.MANAGERS if role == Role.MANAGER else Quota.VIEWERS
    async with plans.within_quota(pool, tenant_id, quota) as conn:
        return await _created(conn, caller, username, password_hash, role, tenant_id)


async def _created(conn: asyncpg.Connection, caller: Principal, username: str, password_hash: str, role: Role,
                   tenant_id: UUID | None) -> User:
    user = await users.create(conn, username=username, password_hash=password_hash, role=role.value,
                              tenant_id=tenant_id)
    await audit.record(conn, caller.user_id, "user.created", tenant_id=tenant_id,
                       detail={"user_id": str(user.id), "username": user.username, "role": role.value})
    return user


async def disable(pool: asyncpg.Pool, caller: Principal, user_id: UUID) -> User:
    target = await _other(pool, caller, user_id, "disable")
    await users.disable(pool, target.id)
    await _audit(pool, caller, "user.disabled", target)
    return await _reread(pool, target)


async def enable(pool: asyncpg.Pool, caller: Principal, user_id: UUID) -> User:
    target = await manageable(pool, caller, user_id)
    await users.enable(pool, target.id)
    await _audit(pool, caller, "user.enabled", target)
    return await _reread(pool, target)


async def delete(pool: asyncpg.Pool, caller: Principal, user_id: UUID) -> None:
    target = await _other(pool, caller, user_id, "delete")
    await users.delete(pool, target.id)
    await _audit(pool, caller, "user.deleted", target)


async def change_role(pool: asyncpg.Pool, caller: Principal, user_id: UUID, role: Role) -> User:
    """A city user becomes a manager or a viewer (platform admins only), within the plan's quota of the new
    role; every session of theirs ends. Audited ``user.role_changed`` in the same transaction."""
    target = await manageable(pool, caller, user_id)
    refusal = role_change_refusal(caller, target, role)
    if refusal is not None:
        raise NotAllowed(refusal) if caller.role != Role.ADMIN else Conflict(refusal)
    assert target.tenant_id is not None  # role_change_refusal refuses platform users
    async with plans.within_quota(pool, target.tenant_id, Quota.MANAGERS if role == Role.MANAGER
                                  else Quota.VIEWERS) as conn:
        await users.set_role(conn, target.id, role)
        await audit.record(conn, caller.user_id, "user.role_changed", tenant_id=target.tenant_id,
                           detail={"user_id": str(target.id), "username": target.username,
                                   "from": target.role.value, "to": role.value})
    return await _reread(pool, target)


async def reset_password(pool: asyncpg.Pool, caller: Principal, user_id: UUID, password_hash: str) -> None:
    target = await manageable(pool, caller, user_id)
    await users.set_password(pool, target.id, password_hash)
    await _audit(pool, caller, "user.password_reset", target)


async def change_own_password(pool: asyncpg.Pool, caller: Principal, password_hash: str) -> None:
    """The caller's new password (the API checked the current one); all their sessions end."""
    await users.set_password(pool, caller.user_id, password_hash)
    await audit.record(pool, caller.user_id, "user.password_changed", tenant_id=caller.tenant_id,
                       detail={"user_id": str(caller.user_id)})


async def _other(pool: asyncpg.Pool, caller: Principal, user_id: UUID, verb: str) -> User:
    if user_id == caller.user_id:
        raise Conflict(f"you may not {verb} your own account")
    return await manageable(pool, caller, user_id)


async def _reread(pool: asyncpg.Pool, target: User) -> User:
    again = await users.get(pool, target.id)
    if again is None:
        raise NotFound("user not found")
    return again


async def _audit(pool: asyncpg.Pool, caller: Principal, action: str, target: User) -> None:
    await audit.record(pool, caller.user_id, action, tenant_id=target.tenant_id,
                       detail={"user_id": str(target.id), "username": target.username})
