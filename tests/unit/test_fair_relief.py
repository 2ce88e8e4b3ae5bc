"""Fair relief (domain/fair_relief.py): who gives bytes when the store is past its critical watermark."""

from uuid import UUID, uuid4

from domain.fair_relief import CityUse, excess, relief_plan, shares, to_pause

GB = 10**9


def _cities(*uses: tuple[int, int | None]) -> tuple[list[CityUse], list[UUID]]:
    ids = [uuid4() for _ in uses]
    return [CityUse(i, stored, quota) for i, (stored, quota) in zip(ids, uses, strict=True)], ids


def test_without_quotas_each_city_has_an_equal_share_of_the_capacity() -> None:
    cities, (a, b, c) = _cities((70 * GB, None), (20 * GB, None), (5 * GB, None))
    assert shares(cities, 100 * GB) == {a: 33_333_333_333, b: 33_333_333_333, c: 33_333_333_333}
    assert excess(cities, 100 * GB) == {a: 70 * GB - 33_333_333_333}
    assert shares(cities, None) == {a: 95 * GB // 3, b: 95 * GB // 3, c: 95 * GB // 3}  # capacity unknown


def test_the_city_flooding_gives_everything_and_the_others_nothing() -> None:
    """A big city within its quota and a small one: the small one flooded past its share, only it gives."""
    cities, (big, small, idle) = _cities((60 * GB, 80 * GB), (30 * GB, 10 * GB), (1 * GB, None))
    assert relief_plan(cities, 100 * GB, 5 * GB) == [(small, 5 * GB)]
    assert to_pause(cities, 100 * GB) == [small]
    assert big not in dict(relief_plan(cities, 100 * GB, 20 * GB)) and idle not in dict(relief_plan(
        cities, 100 * GB, 20 * GB))


def test_the_furthest_over_gives_first_down_to_the_next_then_both() -> None:
    cities, (a, b, _c) = _cities((50 * GB, 10 * GB), (20 * GB, 10 * GB), (5 * GB, 10 * GB))  # over by 40, 10, -
    assert relief_plan(cities, None, 25 * GB) == [(a, 25 * GB)]  # a down to 15 over: still above b
    plan = dict(relief_plan(cities, None, 36 * GB))  # 30 to bring a to b's 10, then 3 each
    assert plan == {a: 33 * GB, b: 3 * GB}
    assert relief_plan(cities, None, 50 * GB) == [(a, 40 * GB), (b, 10 * GB)]  # every excess, exactly


def test_no_city_within_its_share_gives_while_another_is_over() -> None:
    for needed in (1, GB, 7 * GB, 12 * GB):
        cities, (over, within) = _cities((22 * GB, 10 * GB), (9 * GB, 10 * GB))
        plan = dict(relief_plan(cities, None, needed))
        assert within not in plan and plan[over] == min(needed, 12 * GB)


def test_when_every_excess_is_not_enough_everyone_gives_in_proportion_to_their_share() -> None:
    cities, (a, b) = _cities((12 * GB, 10 * GB), (9 * GB, 30 * GB))  # a 2 GB over, b within
    plan = dict(relief_plan(cities, None, 6 * GB))
    assert plan[a] == 3 * GB and plan[b] == 3 * GB  # 2 GB of excess, then 4 GB shared 1:3
    assert sum(plan.values()) == 6 * GB


def test_pause_without_anyone_over_their_share_stops_everyone() -> None:
    cities, ids = _cities((9 * GB, 10 * GB), (9 * GB, 10 * GB))
    assert to_pause(cities, 20 * GB) == ids
    assert relief_plan(cities, 20 * GB, 0) == []
