"""A city's health roll-up from each camera's last transition and newest chunk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from domain.tenant_health import CameraHealth, rollup

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def camera(state: str | None, *, enabled: bool = True, lag_s: float | None = None, reason: str | None = None,
           since_s: float = 60) -> CameraHealth:
    end = NOW - timedelta(seconds=lag_s) if lag_s is not None else None
    return CameraHealth(uuid4(), f"cam {state}", enabled, state, reason, NOW - timedelta(seconds=since_s), end)


def test_counts_troubled_cameras_and_lag() -> None:
    cameras = [camera("streaming", lag_s=10), camera("streaming", lag_s=70), camera("streaming", lag_s=30),
               camera("offline", since_s=600), camera("error", reason="unauthorized", since_s=900),
               camera("stalled", since_s=5), camera(None), camera("streaming", enabled=False)]
    result = rollup(cameras, NOW)
    assert (result["cameras"], result["online"], result["offline"], result["error"], result["disabled"]) == (8, 3, 2, 1, 1)
    assert result["by_state"]["starting"] == 1
    assert result["recording_lag_s"] == {"max": 70.0, "p50": 30.0}
    assert [t["state"] for t in result["troubled"]] == ["error", "offline", "stalled"], "longest troubled first"


def test_an_empty_city() -> None:
    result = rollup([], NOW)
    assert result["cameras"] == 0 and result["recording_lag_s"] is None and result["troubled"] == []
