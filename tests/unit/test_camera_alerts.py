"""The camera alert rule (domain/camera_alerts.py), the book of every camera, the health debounce, and the
reason an offline alert gives (media/sources.py classify_error)."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import av
import pytest

from domain.alert_book import AlertBook, SeenTransition
from domain.camera_alerts import AlertKind, AlertSettings, CameraAlert, CameraAlertRule, InvalidAlertSettings
from domain.camera_state import CameraState, ErrorReason
from domain.health_push import HealthDebounce
from media.sources import classify_error

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DEFAULT = AlertSettings()  # 30 s offline, 10 s online


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


class Simulation:
    """One camera's transitions at given instants, ticked every second like the Fleet does."""

    def __init__(self, settings: AlertSettings = DEFAULT) -> None:
        self.rule = CameraAlertRule()
        self.settings = settings
        self.alerts: list[CameraAlert] = []
        self.clock = 0.0

    def run(self, until_s: float, transitions: list[tuple[float, CameraState]]) -> list[CameraAlert]:
        pending = sorted(transitions)
        while self.clock <= until_s:
            while pending and pending[0][0] <= self.clock:
                when, state = pending.pop(0)
                self.rule.observe(state, "disconnected" if state != CameraState.STREAMING else None, at(when),
                                  self.settings)
            self.alerts += self.rule.tick(at(self.clock), self.settings)
            self.clock += 1.0
        return self.alerts


def test_offline_is_raised_only_once_the_outage_is_offline_after_s_old() -> None:
    sim = Simulation()
    sim.run(29, [(0, CameraState.STREAMING), (0.5, CameraState.RECONNECTING)])
    assert sim.alerts == []  # 28.5 s down: not yet
    alerts = sim.run(40, [])
    assert [a.kind for a in alerts] == [AlertKind.OFFLINE]
    assert alerts[0].since == at(0.5) and alerts[0].at == at(31) and alerts[0].reason == "disconnected"


def test_online_only_after_recording_online_after_s_and_only_after_an_offline_alert() -> None:
    sim = Simulation()
    sim.run(45, [(0, CameraState.STREAMING), (1, CameraState.OFFLINE), (40, CameraState.STREAMING)])
    assert [a.kind for a in sim.alerts] == [AlertKind.OFFLINE]  # 5 s recording: not yet back
    sim.run(60, [])
    assert [a.kind for a in sim.alerts] == [AlertKind.OFFLINE, AlertKind.ONLINE]
    online = sim.alerts[1]
    assert online.since == at(40) and online.at == at(50) and online.offline_since == at(1)


def test_a_short_outage_raises_nothing_at_all() -> None:
    alerts = Simulation().run(120, [(0, CameraState.STREAMING), (10, CameraState.STALLED),
                                    (12, CameraState.RECONNECTING), (25, CameraState.STREAMING)])
    assert alerts == []


def test_a_camera_flapping_every_2_s_for_60_s_raises_one_offline_and_no_online_until_stable() -> None:
    flaps = [(float(t), CameraState.RECONNECTING if (t // 2) % 2 == 0 else CameraState.STREAMING)
             for t in range(0, 60, 2)]
    sim = Simulation()
    sim.run(60, [(-1, CameraState.STREAMING), *flaps])
    assert [a.kind for a in sim.alerts] == [AlertKind.OFFLINE]
    assert sim.alerts[0].since == at(0)  # the outage began at the first drop, not the last
    assert flaps[-1] == (58.0, CameraState.STREAMING)  # the last flap is up, and it stays up
    sim.run(75, [])
    assert [a.kind for a in sim.alerts] == [AlertKind.OFFLINE, AlertKind.ONLINE]
    assert (sim.alerts[1].since, sim.alerts[1].at) == (at(58), at(68))


def test_a_recovery_between_two_ticks_still_closes_the_outage() -> None:
    rule = CameraAlertRule()
    rule.observe(CameraState.OFFLINE, "timeout", at(0), DEFAULT)
    assert [a.kind for a in rule.tick(at(30), DEFAULT)] == [AlertKind.OFFLINE]
    rule.observe(CameraState.STREAMING, None, at(31), DEFAULT)
    rule.observe(CameraState.STALLED, "timeout", at(45), DEFAULT)  # 14 s recording, never ticked meanwhile
    alerts = rule.tick(at(46), DEFAULT)
    assert [(a.kind, a.since) for a in alerts] == [(AlertKind.ONLINE, at(31))]
    assert rule.outage_since == at(45)  # and a new outage began


def test_a_stopped_camera_is_no_outage_but_an_open_alert_waits_for_it_to_record() -> None:
    sim = Simulation()
    sim.run(100, [(0, CameraState.ERROR), (50, CameraState.STOPPED), (60, CameraState.DISABLED)])
    assert [a.kind for a in sim.alerts] == [AlertKind.OFFLINE]  # disabled: no more alerts, no online either
    sim.run(130, [(110, CameraState.STARTING), (111, CameraState.CONNECTING), (112, CameraState.STREAMING)])
    assert [a.kind for a in sim.alerts] == [AlertKind.OFFLINE, AlertKind.ONLINE]
    stopped_only = Simulation().run(200, [(0, CameraState.STREAMING), (5, CameraState.STOPPED)])
    assert stopped_only == []


def test_the_outage_begins_when_the_camera_fails_not_when_its_supervisor_started_connecting() -> None:
    quick = AlertSettings(offline_after_s=5, online_after_s=5)
    # Seen on a real camera: connecting, 0.7 s later recording, stopped 0.4 s after that (well within online_after_s).
    alerts = Simulation(quick).run(20, [(0, CameraState.CONNECTING), (0.7, CameraState.STREAMING),
                                        (1.1, CameraState.RECONNECTING)])
    assert [(a.kind, a.since, a.at) for a in alerts] == [(AlertKind.OFFLINE, at(1.1), at(7))]
    never_connected = Simulation(quick).run(20, [(0, CameraState.STARTING), (1, CameraState.CONNECTING),
                                                 (6, CameraState.ERROR)])  # the open timed out after 5 s
    assert [(a.kind, a.since) for a in never_connected] == [(AlertKind.OFFLINE, at(6))]
    restarted_mid_outage = Simulation(quick).run(20, [(0, CameraState.STREAMING), (1, CameraState.OFFLINE),
                                                      (3, CameraState.STARTING), (4, CameraState.CONNECTING)])
    assert [(a.kind, a.since) for a in restarted_mid_outage] == [(AlertKind.OFFLINE, at(1))]


def test_each_city_uses_its_own_delays() -> None:
    quick, slow = AlertSettings(offline_after_s=5, online_after_s=5), AlertSettings(offline_after_s=120)
    down: list[tuple[float, CameraState]] = [(0, CameraState.STREAMING), (1, CameraState.RECONNECTING)]
    assert [a.at for a in Simulation(quick).run(30, down)] == [at(6)]
    assert Simulation(slow).run(100, down) == []

    book = AlertBook()
    fast_city, slow_city = uuid4(), uuid4()
    cams = {fast_city: uuid4(), slow_city: uuid4()}
    settings = {fast_city: quick, slow_city: slow}
    for n, (city, cam) in enumerate(cams.items()):
        book.observe(SeenTransition(n, city, cam, f"cam-{n}", at(0), CameraState.OFFLINE, "timeout"), settings[city])
    raised = book.tick(at(10), settings.__getitem__)
    assert [(r.tenant_id, r.camera_id, r.camera_name) for r in raised] == [(fast_city, cams[fast_city], "cam-0")]


@pytest.mark.parametrize("offline, online", [(4, 10), (30, 3601), (0, 0), (-5, 10)])
def test_delays_out_of_range_are_refused(offline: int, online: int) -> None:
    with pytest.raises(InvalidAlertSettings, match="between 5 and 3600"):
        AlertSettings(offline, online)


def test_book_counts_a_city_as_its_health_page_does() -> None:
    book, city, other = AlertBook(), uuid4(), uuid4()
    states = [CameraState.STREAMING, CameraState.STREAMING, CameraState.STALLED, CameraState.OFFLINE,
              CameraState.ERROR, CameraState.STOPPED]
    for n, state in enumerate(states):
        book.observe(SeenTransition(n, city, uuid4(), "c", at(0), state, None), DEFAULT)
    book.observe(SeenTransition(99, other, uuid4(), "c", at(0), CameraState.ERROR, None), DEFAULT)
    assert book.counts(city) == {"online": 2, "offline": 2, "error": 1}
    assert book.counts(other) == {"online": 0, "offline": 0, "error": 1}


def test_health_pushes_at_most_once_a_second_and_only_changes() -> None:
    push, city = HealthDebounce(min_interval_s=1.0), uuid4()
    push.seen(city, {"online": 3, "offline": 0, "error": 0})
    assert push.due(at(0)) == [(city, {"online": 3, "offline": 0, "error": 0})]
    for n in range(1, 20):  # 19 cameras dropping within 0.5 s: one push, with the last counts, a second later
        push.seen(city, {"online": 3 - min(n, 3), "offline": min(n, 3), "error": 0})
        assert push.due(at(n * 0.025)) == []
    assert push.due(at(1.0)) == [(city, {"online": 0, "offline": 3, "error": 0})]
    push.seen(city, {"online": 0, "offline": 3, "error": 0})
    assert push.due(at(5)) == []  # unchanged: nothing to push
    push.seen(city, {"online": 1, "offline": 2, "error": 0})
    push.seen(city, {"online": 0, "offline": 3, "error": 0})  # changed and back before it went out
    assert push.due(at(6)) == []


@pytest.mark.parametrize("port", [40123, 34015, 14041])
def test_a_refused_connection_is_unreachable_whatever_digits_the_url_holds(port: int) -> None:
    """PyAV appends the URL to its errors; a port with 401 or 404 in it once made a camera "unauthorized"."""
    refused = av.error.ConnectionRefusedError(111, "Connection refused", f"rtsp://127.0.0.1:{port}/cam404")
    assert classify_error(refused) == ErrorReason.UNREACHABLE
    assert classify_error(av.error.HTTPUnauthorizedError(-825242872, "Server returned 401 Unauthorized",
                                                         f"rtsp://127.0.0.1:{port}/cam")) == ErrorReason.UNAUTHORIZED
