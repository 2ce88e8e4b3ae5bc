"""Who may disable, enable, delete or reset the password of whom, and change whose role.

Platform admins manage anyone; a city's manager manages the viewers of their
own city and nobody else. Nobody disables or deletes themselves (a platform
could lose its last admin that way); changing one's own password is separate
(it needs the current password).
"""

from __future__ import annotations

from domain.rbac import Principal, Role
from domain.user import User


def may_manage(caller: Principal, target: User) -> bool:
    if caller.role == Role.ADMIN:
        return True
    return (caller.role == Role.MANAGER and target.role == Role.VIEWER
            and target.tenant_id is not None and target.tenant_id == caller.tenant_id)


def is_visible_to(caller: Principal, target: User) -> bool:
    """Whether the caller may know the user exists: another city's users are "not found", never "forbidden"."""
    return caller.role == Role.ADMIN or (target.tenant_id is not None and target.tenant_id == caller.tenant_id)


def role_change_refusal(caller: Principal, target: User, role: Role) -> str | None:
    """Why ``caller`` may not make ``target`` a ``role``, or None. Only platform admins change roles, and only of a
    city's users between manager and viewer (a platform admin is created as one; nobody changes their own role)."""
    if caller.role != Role.ADMIN:
        return "only platform admins change roles"
    if target.id == caller.user_id:
        return "you may not change your own role"
    if target.tenant_id is None or role == Role.ADMIN:
        return "roles change between manager and viewer of a city only"
    if target.role == role:
        return f"the user is already a {role.value}"
    return None
