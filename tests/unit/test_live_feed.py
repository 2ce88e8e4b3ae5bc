"""The live feed on a real H.264 clip: per-frame fragments that decode, bounded rings, leases."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from media.ingest_stats import IngestStats
from media.lean_demux import RawPacket
from media.live import LimitsOfLive, LiveFeed, LivePiece
from media.recorder import record_run
from storage.spool import FsyncPolicy, SpoolWriter
from tests.unit.test_media import FPS, LoopedClip


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _feed_through_recording(tmp_path: Path, live: LiveFeed, loops: int, on_packet: object = None) -> None:
    record_run(
        LoopedClip(loops), max_chunk_ms=60_000, on_chunk=lambda _: None, stop=threading.Event(),
        sink=SpoolWriter(tmp_path, fsync=FsyncPolicy.NONE), stats=IngestStats(), live=live,
    )


def _decode(init: bytes, pieces: list[LivePiece]) -> list[av.VideoFrame]:
    with av.open(io.BytesIO(init + b"".join(p.data for p in pieces))) as container:
        return list(container.decode(video=0))


class Watching(LiveFeed):
    """A feed whose viewer reads after every packet, like a connected WebSocket, and reloads the HLS playlist."""

    def __init__(self, **kwargs: object) -> None:
        self.clock = Clock()
        self.read: list[LivePiece] = []
        self.inits: dict[int, bytes] = {}
        super().__init__(notify=self._collect, clock=self.clock, **kwargs)  # type: ignore[arg-type]
        self.want()

    def _collect(self) -> None:
        self.gops()
        after = self.read[-1].seq if self.read else None
        for piece in self.frames_after(after):
            self.read.append(piece)
            self.inits.setdefault(piece.init_id, self.init(piece.init_id) or b"")


def test_a_viewer_gets_every_frame_as_its_own_fragment_and_they_decode(tmp_path: Path) -> None:
    live = Watching()
    _feed_through_recording(tmp_path, live, loops=3)  # 12 s, 2 s GOPs, 10 fps
    assert len(live.read) == 3 * 4 * FPS, "one fragment per frame, none lost"
    assert [p.seq for p in live.read] == list(range(1, len(live.read) + 1))
    assert [i for i, p in enumerate(live.read) if p.keyframe] == list(range(0, 120, 2 * FPS))
    (init,) = live.inits.values()
    frames = _decode(init, live.read)
    assert len(frames) == 120 and frames[0].key_frame
    assert (frames[0].width, frames[0].height) == (320, 180)


def test_a_late_viewer_starts_at_the_latest_keyframe_and_rings_stay_bounded(tmp_path: Path) -> None:
    live = Watching()
    late: list[list[LivePiece]] = []

    class Probe(LoopedClip):
        def packets(self, stop: threading.Event) -> Iterator[RawPacket]:
            for i, packet in enumerate(super().packets(stop)):
                if i == 190:  # the last GOP starts at packet 180
                    late.append(live.frames_after(None))
                yield packet

    record_run(Probe(5), max_chunk_ms=60_000, on_chunk=lambda _: None, stop=threading.Event(),
               sink=SpoolWriter(tmp_path, fsync=FsyncPolicy.NONE), stats=IngestStats(), live=live)
    frames = late[0]
    assert frames[0].keyframe and frames[0].seq == 181 and frames[-1].seq == 189  # the newest frame waits for the next packet
    decoded = _decode(live.inits[frames[0].init_id], frames)
    assert len(decoded) == len(frames) and decoded[0].key_frame
    assert live.frames_after(live.read[-1].seq) == []
    gops = live.gops()
    assert len(gops) == LimitsOfLive().gop_ring_fragments
    assert [g.seq for g in gops] == list(range(10 - len(gops) + 1, 11))
    assert all(g.duration_s == pytest.approx(2.0) for g in gops)
    with av.open(io.BytesIO((live.init(gops[0].init_id) or b"") + b"".join(g.data for g in gops))) as c:
        assert len(list(c.decode(video=0))) == len(gops) * 2 * FPS


def test_nobody_watching_costs_no_muxing_and_a_lapsed_lease_stops_it(tmp_path: Path) -> None:
    live = LiveFeed(clock=lambda: 100.0)  # the lease (10 s from 0) lapsed long ago
    _feed_through_recording(tmp_path, live, loops=1)
    assert live.frames_after(None) == []  # reading renews the lease only from now on
    assert len(live.gops()) == 1, "unread, the HLS window holds the newest GOP only"


def test_a_gop_longer_than_the_bound_is_not_held_but_a_watching_viewer_keeps_its_frames(tmp_path: Path) -> None:
    live = Watching(limits=LimitsOfLive(gop_packets=5))
    _feed_through_recording(tmp_path, live, loops=1)
    assert len(live.read) == 4 * FPS
    late = LiveFeed(limits=LimitsOfLive(gop_packets=5))
    seen = []

    class Probe(LoopedClip):
        def packets(self, stop: threading.Event) -> Iterator[RawPacket]:
            for i, packet in enumerate(super().packets(stop)):
                if i == 12:
                    seen.append((late.keyframe(), late.frames_after(None)))
                yield packet

    record_run(Probe(1), max_chunk_ms=60_000, on_chunk=lambda _: None, stop=threading.Event(),
               sink=SpoolWriter(tmp_path / "late", fsync=FsyncPolicy.NONE), stats=IngestStats(), live=late)
    assert seen == [(None, [])], "nothing held mid-GOP once the GOP outgrew the bound"
    assert late.frames_after(None) == [], "the run ended"


def test_the_latest_keyframe_is_there_while_the_run_lasts(tmp_path: Path) -> None:
    live = LiveFeed()
    seen = []

    class Probe(LoopedClip):
        def packets(self, stop: threading.Event) -> Iterator[RawPacket]:
            for i, packet in enumerate(super().packets(stop)):
                if i == 25:
                    seen.append(live.keyframe())
                yield packet

    record_run(Probe(1), max_chunk_ms=60_000, on_chunk=lambda _: None, stop=threading.Event(),
               sink=SpoolWriter(tmp_path, fsync=FsyncPolicy.NONE), stats=IngestStats(), live=live)
    (keyframe,) = seen
    assert keyframe is not None and keyframe.codec == "h264" and (keyframe.width, keyframe.height) == (320, 180)
    assert keyframe.data and keyframe.extradata
    assert live.keyframe() is None, "cleared when the run ended"
