import pytest

from domain.event_budget import MessageBudget


def test_a_city_within_its_budget_is_never_held_back() -> None:
    budget = MessageBudget(per_socket_s=10)
    # 5 sockets: 50 messages a second; one event a 0.1 s to each socket is exactly that.
    assert all(budget.wait_s(5, 5, n / 10) == 0 for n in range(100))


def test_a_burst_beyond_a_second_of_budget_waits_for_what_it_overspent() -> None:
    budget = MessageBudget(per_socket_s=10)
    assert budget.wait_s(50, 5, 0.0) == 0  # a full bucket: one second of the rate at once
    assert budget.wait_s(25, 5, 0.0) == pytest.approx(0.5)  # 25 more at 50/s
    assert budget.wait_s(25, 5, 0.5) == pytest.approx(0.5)  # refilled 25 in the wait, now 25 short again


def test_the_flooding_citys_rate_is_bounded_whatever_it_publishes() -> None:
    budget, now, sent = MessageBudget(per_socket_s=20), 0.0, 0
    for _ in range(1000):  # 200 events to 50 sockets per batch, as fast as the feed may
        now += budget.wait_s(200 * 50, 50, now)
        sent += 200 * 50
    assert sent / now == pytest.approx(50 * 20, rel=0.01)


def test_more_sockets_earn_more_and_an_idle_city_saves_only_its_burst() -> None:
    budget = MessageBudget(per_socket_s=10, burst_s=2)
    assert budget.wait_s(400, 20, 0.0) == 0  # 20 sockets: 200/s, 2 s of burst
    assert budget.wait_s(0, 1, 1000.0) == 0  # idle for long, down to one socket: the ceiling is 20
    assert budget.wait_s(30, 1, 1000.0) == pytest.approx(1.0)


def test_a_budget_needs_a_positive_rate() -> None:
    with pytest.raises(ValueError):
        MessageBudget(per_socket_s=0)
