import random
from datetime import UTC, datetime, timedelta

from domain.camera_health import HealthMachine, HealthPolicy
from domain.camera_state import CameraState, ErrorReason

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_happy_path_and_stall_detection() -> None:
    m = HealthMachine(HealthPolicy(stall_after_s=5), T0)
    assert m.connecting(at(0)).state == CameraState.CONNECTING  # type: ignore[union-attr]
    assert m.streaming(at(1)).state == CameraState.STREAMING  # type: ignore[union-attr]
    assert m.tick(at(3), last_packet_age_s=0.1) is None
    stalled = m.tick(at(8), last_packet_age_s=5.0)
    assert stalled is not None and stalled.state == CameraState.STALLED and stalled.previous == CameraState.STREAMING
    assert m.tick(at(8.5), last_packet_age_s=5.5) is None  # one transition per change
    resumed = m.tick(at(9), last_packet_age_s=0.0)
    assert resumed is not None and resumed.state == CameraState.STREAMING


def test_network_outage_reconnects_then_goes_offline() -> None:
    m = HealthMachine(HealthPolicy(offline_after_s=60), T0)
    m.streaming(at(0))
    t = m.lost(ErrorReason.DISCONNECTED, "the stream ended", at(10))
    assert t is not None and t.state == CameraState.RECONNECTING and t.reason == ErrorReason.DISCONNECTED
    assert m.connecting(at(11)) is None  # retries keep showing the outage
    assert m.lost(ErrorReason.UNREACHABLE, "refused", at(12)).state == CameraState.RECONNECTING  # type: ignore[union-attr]
    assert m.tick(at(69), last_packet_age_s=None) is None
    offline = m.tick(at(70), last_packet_age_s=None)
    assert offline is not None and offline.state == CameraState.OFFLINE
    back = m.streaming(at(100))
    assert back is not None and back.previous == CameraState.OFFLINE and m.outage_since is None


def test_a_camera_that_never_streamed_and_cannot_be_reached_is_an_error() -> None:
    m = HealthMachine(HealthPolicy(), T0)
    m.connecting(at(0))
    t = m.lost(ErrorReason.UNREACHABLE, "connection refused", at(1))
    assert t is not None and t.state == CameraState.ERROR and t.reason == ErrorReason.UNREACHABLE
    assert m.retry_delay(5, at(2)) <= 1.0  # still retried fast: it may be booting
    assert m.streaming(at(3)) is not None


def test_errors_that_retrying_cannot_fix_are_errors() -> None:
    m = HealthMachine(HealthPolicy(), T0)
    t = m.lost(ErrorReason.UNAUTHORIZED, "401", at(1))
    assert t is not None and t.state == CameraState.ERROR and t.reason == ErrorReason.UNAUTHORIZED
    full = m.storage_failed(ErrorReason.STORAGE_FULL, "spool budget exhausted", at(2))
    assert full is not None and full.reason == ErrorReason.STORAGE_FULL


def test_network_retries_stay_fast_while_young_and_auth_errors_back_off() -> None:
    rng = random.Random(1)
    m = HealthMachine(HealthPolicy(), T0)
    m.streaming(at(0))
    m.lost(ErrorReason.UNREACHABLE, None, at(0))
    assert all(m.retry_delay(n, at(30), rng) <= 1.0 for n in range(20))
    assert max(m.retry_delay(10, at(61), rng) for _ in range(50)) > 10  # offline: slow down
    auth = HealthMachine(HealthPolicy(), T0)
    auth.lost(ErrorReason.UNAUTHORIZED, None, at(0))
    delays = [auth.retry_delay(n, at(1), rng) for n in range(8)]
    assert delays[0] <= 0.5 and delays[-1] >= 15 and max(delays) <= 30


def test_jitter_spreads_twenty_cameras() -> None:
    rng = random.Random(3)
    machines = [HealthMachine(HealthPolicy(), T0) for _ in range(20)]
    for m in machines:
        m.streaming(at(0))
        m.lost(ErrorReason.DISCONNECTED, None, at(0))
    first = sorted(m.retry_delay(1, at(0), rng) for m in machines)
    assert first[-1] - first[0] > 0.1


def test_a_read_timeout_is_a_stall_only_while_streaming() -> None:
    m = HealthMachine(HealthPolicy(), T0)
    assert m.stalled("silent", at(0)) is None
    m.streaming(at(1))
    t = m.stalled("silent", at(6))
    assert t is not None and t.state == CameraState.STALLED
    assert m.lost(ErrorReason.TIMEOUT, "timed out", at(6)).state == CameraState.RECONNECTING  # type: ignore[union-attr]
