from uuid import uuid4

import pytest

from domain.rbac import Action, Principal, Role, may, visible_tenant

CITY_A, CITY_B = uuid4(), uuid4()
ADMIN = Principal(uuid4(), Role.ADMIN, None)
MANAGER_A = Principal(uuid4(), Role.MANAGER, CITY_A)
VIEWER_A = Principal(uuid4(), Role.VIEWER, CITY_A)


@pytest.mark.parametrize(
    ("who", "action", "tenant", "allowed"),
    [
        (ADMIN, Action.MANAGE_TENANTS, None, True),
        (ADMIN, Action.WRITE, CITY_B, True),
        (MANAGER_A, Action.WRITE, CITY_A, True),
        (MANAGER_A, Action.WRITE, CITY_B, False),
        (MANAGER_A, Action.MANAGE_TENANTS, None, False),
        (VIEWER_A, Action.READ, CITY_A, True),
        (VIEWER_A, Action.WRITE, CITY_A, False),
        (VIEWER_A, Action.READ, CITY_B, False),
        (VIEWER_A, Action.READ, None, False),
    ],
)
def test_decisions(who: Principal, action: Action, tenant: object, allowed: bool) -> None:
    assert may(who, action, tenant) is allowed  # type: ignore[arg-type]


def test_non_admins_are_pinned_to_their_tenant() -> None:
    assert visible_tenant(VIEWER_A, None) == CITY_A
    assert visible_tenant(VIEWER_A, CITY_A) == CITY_A
    assert visible_tenant(VIEWER_A, CITY_B) is None
    assert visible_tenant(ADMIN, CITY_B) == CITY_B
