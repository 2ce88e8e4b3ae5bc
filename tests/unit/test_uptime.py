from datetime import UTC, datetime, timedelta

import pytest

from domain.uptime import uptime

DAY = datetime(2026, 11, 23, tzinfo=UTC)


def h(hours: float) -> datetime:
    return DAY + timedelta(hours=hours)


def test_day_with_an_outage_and_a_state_carried_in_from_yesterday() -> None:
    history = [(h(-2), "streaming"), (h(6), "reconnecting"), (h(6.5), "offline"), (h(8), "streaming")]
    result = uptime(history, h(0), h(24))
    assert result.seconds_by_state == {"streaming": 22 * 3600, "reconnecting": 1800, "offline": 5400}
    assert result.uptime_ratio == pytest.approx(22 / 24)


def test_time_before_the_camera_existed_is_unknown_not_down() -> None:
    result = uptime([(h(12), "connecting"), (h(12.001), "streaming")], h(0), h(24))
    assert result.seconds_by_state["unknown"] == 12 * 3600
    assert result.uptime_ratio == pytest.approx(1.0, abs=1e-4)


def test_no_history_and_bad_ranges() -> None:
    assert uptime([], h(0), h(1)).uptime_ratio is None
    with pytest.raises(ValueError):
        uptime([], h(1), h(1))
