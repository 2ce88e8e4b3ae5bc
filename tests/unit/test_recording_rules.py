import random
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest

from domain.backoff import reconnect_delay
from domain.placement import LOCAL, HostLoad, choose_slot, reconcile
from domain.recording import chunk_object_key, chunk_should_close, from_epoch_ms, to_epoch_ms

TENANT = UUID("11111111-1111-1111-1111-111111111111")
CAMERA = UUID("22222222-2222-2222-2222-222222222222")


def test_object_key_is_utc_hour_prefixed_with_epoch_ms() -> None:
    start = datetime(2026, 3, 9, 23, 59, 58, 123000, tzinfo=timezone(timedelta(hours=-3)))
    key = chunk_object_key(TENANT, CAMERA, start)
    assert key == f"t/{TENANT}/c/{CAMERA}/2026/03/10/02/{to_epoch_ms(start)}.mp4"
    assert from_epoch_ms(to_epoch_ms(start)) == start


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_epoch_ms(datetime(2026, 1, 1))


def test_chunk_closes_before_exceeding_the_maximum_but_never_empty() -> None:
    assert not chunk_should_close(0, 90_000, 60_000)  # a lone long GOP still records
    assert not chunk_should_close(56_000, 4_000, 60_000)
    assert chunk_should_close(58_000, 4_000, 60_000)


def test_backoff_grows_to_the_cap_with_jitter() -> None:
    rng = random.Random(7)
    first = [reconnect_delay(0, rng=rng) for _ in range(200)]
    assert all(0.25 <= d <= 0.5 for d in first)
    late = [reconnect_delay(20, rng=rng) for _ in range(200)]
    assert all(15 <= d <= 30 for d in late)
    assert len({round(d, 3) for d in late}) > 100  # no lockstep


def test_reconcile_starts_missing_stops_removed_and_restarts_changed() -> None:
    plan = reconcile({"a": "1", "b": "2", "c": "3"}, {"b": "2", "c": "old", "d": "9"})
    assert plan.start == ["a", "c"]
    assert plan.stop == ["c", "d"]


def test_choose_slot_fills_least_loaded_then_opens_a_new_slot() -> None:
    def local(*counts: int) -> dict[int, HostLoad]:
        return {slot: HostLoad(LOCAL, n) for slot, n in enumerate(counts)}

    assert choose_slot({}, LOCAL, 2) == 0
    assert choose_slot(local(1, 0), LOCAL, 2) == 1
    assert choose_slot(local(2, 2), LOCAL, 2) == 2
    assert choose_slot(local(1), LOCAL, 1) == 1


def test_epoch_ms_round_trip_is_utc() -> None:
    assert from_epoch_ms(0) == datetime(1970, 1, 1, tzinfo=UTC)
