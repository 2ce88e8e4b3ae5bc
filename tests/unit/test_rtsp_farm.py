"""The lean farm's timeline (tests/support/rtsp_farm.py) without sockets: it skips when starved, and says so."""

from __future__ import annotations

import asyncio
import struct
import time
from typing import Any

from tests.support.rtsp_farm import LATE_RESYNC_S, AccessUnit, Clip, Farm, Session

FPS = 10


class Transport:
    def get_write_buffer_size(self) -> int:
        return 0


class Writer:
    """What the farm writes to one session: the RTP timestamp of each frame's packets."""

    def __init__(self) -> None:
        self.transport = Transport()
        self.timestamps: list[int] = []

    def write(self, data: bytes) -> None:
        self.timestamps.append(struct.unpack_from(">I", data, 8)[0])  # $, channel, length, then the RTP header

    def close(self) -> None:
        pass


def _clip() -> Clip:
    units = tuple(AccessUnit(i * 90_000 // FPS, (b"\x65" if i % FPS == 0 else b"\x41",), i % FPS == 0)
                  for i in range(2 * FPS))
    return Clip(64, 64, FPS, units, len(units) * 90_000 // FPS, b"\x67", b"\x68")


async def _play(farm: Farm, starve_s: float) -> None:
    task = asyncio.create_task(farm.play())
    await asyncio.sleep(0.35)
    time.sleep(starve_s)  # noqa: ASYNC251 (the farm's loop gets no CPU: a loaded box, SIGSTOP)
    await asyncio.sleep(0.35)
    task.cancel()


def _farm(*paths: str) -> tuple[Farm, dict[str, Writer]]:
    farm = Farm(_clip(), set(paths), None)
    writers = {}
    for path in paths:
        writers[path] = Writer()
        session = Session(writers[path], path, playing=True)  # type: ignore[arg-type]
        farm.sessions[session.id] = session
    return farm, writers


def test_a_starved_timeline_skips_ahead_and_counts_the_skip_for_every_playing_session() -> None:
    farm, writers = _farm("s0", "s1")
    farm.paused.add("s1")  # a paused mount gets nothing, so a skip loses it nothing
    asyncio.run(_play(farm, LATE_RESYNC_S + 0.3))
    stats: dict[str, Any] = farm.stats()
    assert stats["skips"] == 1
    assert stats["skips_by_mount"] == {"s0": 1}
    [event] = stats["events"]
    assert event["sessions"] == 1 and event["late_s"] > LATE_RESYNC_S
    assert event["frames"] >= LATE_RESYNC_S * FPS  # the frames due while it was late by more than the threshold
    steps = [b - a for a, b in zip(writers["s0"].timestamps, writers["s0"].timestamps[1:], strict=False)]
    assert max(steps) > LATE_RESYNC_S * 90_000  # the RTP timestamps jump over what was skipped
    assert stats["late_max_s"] >= LATE_RESYNC_S
    assert writers["s1"].timestamps == []


def test_a_timeline_late_by_less_than_the_threshold_bursts_and_does_not_skip() -> None:
    farm, writers = _farm("s0")
    asyncio.run(_play(farm, LATE_RESYNC_S / 2))
    stats = farm.stats()
    assert stats["skips"] == 0 and stats["events"] == []
    assert stats["late_frames"] >= 3  # the frames due while starved went out late, back to back
    steps = {b - a for a, b in zip(writers["s0"].timestamps, writers["s0"].timestamps[1:], strict=False)}
    assert steps == {90_000 // FPS}  # every frame sent, none skipped
