"""Who may change whose role (domain/user_admin.py): admins, of a city's users, between manager and viewer."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from domain.rbac import Principal, Role
from domain.user import User
from domain.user_admin import role_change_refusal

CITY = uuid4()
ADMIN = Principal(uuid4(), Role.ADMIN, None)
VIEWER = User(uuid4(), CITY, "ana", Role.VIEWER, datetime(2031, 1, 1, tzinfo=UTC))


def test_an_admin_makes_a_viewer_a_manager() -> None:
    assert role_change_refusal(ADMIN, VIEWER, Role.MANAGER) is None


def test_everything_else_is_refused_with_the_reason() -> None:
    manager = Principal(uuid4(), Role.MANAGER, CITY)
    platform_admin = User(uuid4(), None, "root", Role.ADMIN, datetime(2031, 1, 1, tzinfo=UTC))
    assert role_change_refusal(manager, VIEWER, Role.MANAGER) == "only platform admins change roles"
    assert role_change_refusal(ADMIN, VIEWER, Role.ADMIN) == "roles change between manager and viewer of a city only"
    assert role_change_refusal(ADMIN, platform_admin, Role.VIEWER) is not None
    assert role_change_refusal(ADMIN, VIEWER, Role.VIEWER) == "the user is already a viewer"
    myself = User(ADMIN.user_id, CITY, "me", Role.MANAGER, datetime(2031, 1, 1, tzinfo=UTC))
    assert role_change_refusal(ADMIN, myself, Role.VIEWER) == "you may not change your own role"
