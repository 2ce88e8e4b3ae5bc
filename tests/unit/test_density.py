"""Dense hosting by default, and quarantine of a camera that keeps crashing its host (pure policy)."""

from __future__ import annotations

from collections import Counter

from domain.density import cameras_per_host, hosts_wanted
from domain.placement import LOCAL, HostLoad, choose_slot
from domain.quarantine import CrashBook, Quarantine, Split


def test_cameras_per_host_follows_the_cores_unless_configured() -> None:
    assert cameras_per_host(1000, 2, None) == 500
    assert cameras_per_host(5, 2, None) == 3
    assert cameras_per_host(0, 8, None) == 1
    assert cameras_per_host(1000, 2, 1) == 1  # K = 1 stays available
    assert cameras_per_host(1000, 2, 25) == 25
    assert hosts_wanted(4, None) == 4 and hosts_wanted(4, 1) is None


def _choose(load: dict[int, int], per_host: int, *, hosts: int | None = None, reserved: set[int] | None = None) -> int:
    return choose_slot({slot: HostLoad(LOCAL, n) for slot, n in load.items()}, LOCAL, per_host, spread_over=hosts,
                       reserved=reserved or set())


def _place(cameras: int, cores: int, configured: int | None = None) -> Counter[int]:
    load: Counter[int] = Counter()
    per_host, hosts = cameras_per_host(cameras, cores, configured), hosts_wanted(cores, configured)
    for _ in range(cameras):
        load[_choose(dict(load), per_host, hosts=hosts)] += 1
    return load


def test_cameras_spread_evenly_over_one_host_per_core() -> None:
    assert sorted(_place(1000, 2).values()) == [500, 500]
    assert sorted(_place(10, 4).values()) == [2, 2, 3, 3]
    assert sorted(_place(3, 8).values()) == [1, 1, 1]
    assert sorted(_place(4, 2, configured=1).values()) == [1, 1, 1, 1]


def test_reserved_hosts_take_no_other_camera_and_new_slots_skip_them() -> None:
    assert _choose({0: 5, 1: 0}, 10, reserved={1}) == 0
    assert _choose({0: 10}, 10, reserved={1}) == 2
    assert _choose({}, 10, hosts=2, reserved={0}) == 1


def test_a_host_crashing_repeatedly_is_halved_until_the_culprit_is_alone() -> None:
    book: CrashBook[str] = CrashBook(limit=3, window_s=60)
    host = {c: 0 for c in "abcd"}
    culprit, now, rounds = "c", 0.0, 0
    while not book.quarantined:
        slot = host[culprit]
        on_it = [c for c, s in host.items() if s == slot]
        verdict = book.crashed(slot, on_it, now)
        now += 5
        if isinstance(verdict, Split):
            fresh = max(host.values()) + 1
            host.update(dict.fromkeys(verdict.move, fresh))
            rounds += 1
        elif isinstance(verdict, Quarantine):
            assert verdict.camera == culprit
        assert rounds <= 2, "⌈log₂ 4⌉ splits at most"
    assert book.quarantined == {culprit}
    assert [c for c, s in host.items() if s == host[culprit]] == [culprit]


def test_crashes_outside_the_window_are_forgiven() -> None:
    book: CrashBook[str] = CrashBook(limit=3, window_s=60)
    assert book.crashed(0, ["a", "b"], 0) is None
    assert book.crashed(0, ["a", "b"], 50) is None
    assert book.crashed(0, ["a", "b"], 200) is None  # the first two fell out of the window
    assert book.crashed(0, ["a", "b"], 210) is None
    assert book.crashed(0, ["a", "b"], 220) == Split(("b",))
