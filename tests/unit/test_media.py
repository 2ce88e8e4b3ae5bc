"""Fragmenting and chunking on a real H.264 clip (encoded with PyAV), no services."""

from __future__ import annotations

import io
import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import av
import pytest

from domain.recording import ChunkMeta
from media.boxes import read_tracks
from media.chunk_file import complete_prefix_length, describe_chunk
from media.fragmenter import Fragmenter
from media.ingest_stats import IngestStats
from media.lean_demux import RawPacket, raw_packet
from media.recorder import record_run
from media.run_clock import RunClock
from media.sources import PatternSource, _encode_pattern
from storage.spool import FsyncPolicy, SpoolFull, SpoolWriter, pending, recover, start_ms_of
from tests.support.media_checks import assert_fragment_table_addresses_moofs, decode_chunk

FPS = 10


class LoopedClip:
    """The test pattern looped ``loops`` times, unpaced: the recorder at full speed; ``jump_s`` later from the
    ``jump_at``-th packet on (a source whose timeline skipped ahead: frames lost, as the farm skips when starved)."""

    def __init__(self, loops: int, *, bframes: int = 0, reset_every: int = 0, jump_at: int = 0,
                 jump_s: float = 0.0) -> None:
        self._clip = _encode_pattern(320, 180, FPS, 4, bframes)
        self._container = av.open(io.BytesIO(self._clip))
        self.video = self._container.streams.video[0]
        self.audio = None
        self._loops = loops
        self._reset_every = reset_every
        self._jump_at, self._jump_s = jump_at, jump_s

    def packets(self, stop: threading.Event) -> Iterator[RawPacket]:
        span = 4 * FPS * (1 / self.video.time_base / FPS)
        jump = int(self._jump_s / self.video.time_base)
        n = 0
        for loop in range(self._loops):
            timeline_loop = loop % self._reset_every if self._reset_every else loop
            with av.open(io.BytesIO(self._clip)) as c:
                for p in c.demux(c.streams.video[0]):
                    if p.dts is None:
                        continue
                    shift = int(timeline_loop * span) + (jump if self._jump_at and n >= self._jump_at else 0)
                    p.dts += shift
                    p.pts += shift
                    n += 1
                    yield raw_packet(p)

    def close(self) -> None:
        self._container.close()


def test_fragmenter_emits_one_fragment_per_gop_with_container_timing() -> None:
    clip = LoopedClip(1)
    fragmenter = Fragmenter(clip.video)
    fragments = []
    for packet in clip.packets(threading.Event()):
        fragments += fragmenter.mux(packet, packet.stream_index)
    fragments += fragmenter.close()
    assert fragmenter.init is not None
    tracks = read_tracks(fragmenter.init)
    assert [t.handler for t in tracks.values()] == [b"vide"]
    assert [f.duration_ms for f in fragments] == [2000, 2000]  # 4 s clip, 2 s GOPs
    assert fragments[1].decode_time == fragments[0].decode_time + fragments[0].duration


@dataclass
class Recorded:
    meta: ChunkMeta
    data: bytes


def _record(tmp_path: Path, loops: int, max_chunk_ms: int, **clip: int) -> list[Recorded]:
    paths: list[Path] = []
    record_run(
        LoopedClip(loops, **clip), max_chunk_ms=max_chunk_ms, on_chunk=paths.append, stop=threading.Event(),
        sink=SpoolWriter(tmp_path, fsync=FsyncPolicy.NONE), stats=IngestStats(), now=lambda: 1_800_000_000.0,
    )
    assert paths == pending(tmp_path)
    return [Recorded(describe_chunk(p.read_bytes(), tenant_id=uuid4(), camera_id=uuid4(), start_ms=start_ms_of(p)),
                     p.read_bytes()) for p in paths]


def test_chunks_tile_the_run_without_gaps_or_overlap_and_each_plays_alone(tmp_path: Path) -> None:
    chunks = _record(tmp_path, loops=3, max_chunk_ms=5000)  # 12 s of 2 s GOPs → 4 s chunks
    assert [round((c.meta.end - c.meta.start).total_seconds(), 3) for c in chunks] == [4.0, 4.0, 4.0]
    for before, after in itertools.pairwise(chunks):
        assert before.meta.end == after.meta.start
    for chunk in chunks:
        assert_fragment_table_addresses_moofs(chunk.data, chunk.meta.init_length, list(chunk.meta.fragments))
        decoded = decode_chunk(chunk.data)
        assert (decoded.codec, decoded.width, decoded.height, decoded.frames) == ("h264", 320, 180, 40)
        assert (chunk.meta.codec, chunk.meta.width, chunk.meta.height) == ("h264", 320, 180)
        assert decoded.end_s - decoded.first_s == pytest.approx(4.0, abs=0.01)
        assert [f.start_ms for f in chunk.meta.fragments] == [0, 2000]


class FakeClocks:
    def __init__(self, wall: float) -> None:
        self.wall, self.mono = wall, 0.0

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds


def test_run_clock_ignores_packets_that_were_buffered_while_probing() -> None:
    clocks = FakeClocks(100.0)
    clock = RunClock(lambda: clocks.wall, lambda: clocks.mono)
    # Three packets held back by FFmpeg's probe arrive together at t=100; then on time.
    for media_s, advance in ((0.0, 0), (0.4, 0), (0.8, 0), (1.2, 0.2), (1.6, 0.4)):
        clocks.advance(advance)
        clock.observe(media_s)
    assert clock.wall_ms(0.0) == 99_000  # on-time packets say the run began at 99.0
    assert clock.wall_ms(2.0) == 101_000
    clocks.advance(50)
    clock.observe(2.0)  # frozen: a late packet no longer moves written chunks
    assert clock.wall_ms(0.0) == 99_000
    assert not clock.wall_clock_stepped()
    clocks.wall -= 5  # NTP steps the wall clock back; the monotonic clock does not move
    assert clock.wall_clock_stepped()


def test_a_run_never_starts_before_the_previous_one_ended() -> None:
    clocks = FakeClocks(100.0)
    clock = RunClock(lambda: clocks.wall, lambda: clocks.mono, not_before_ms=100_500)
    clock.observe(0.0)
    assert clock.wall_ms(0.0) == 100_500


def test_test_pattern_source_is_paced_and_keeps_timestamps_increasing() -> None:
    source = PatternSource.from_url("test://pattern?w=160&h=90&fps=25")
    stop = threading.Event()
    dts = []
    for packet in source.packets(stop):
        dts.append(packet.dts)
        if len(dts) == 4 * 25 + 5:  # into the second loop
            break
    source.close()
    assert dts == sorted(set(dts))


@pytest.mark.parametrize("query", ["w=abc", "fps=0", "h=99999"])
def test_bad_test_source_parameters_are_errors(query: str) -> None:
    from media.sources import SourceError

    with pytest.raises(SourceError):
        PatternSource.from_url(f"test://pattern?{query}")


def test_crash_mid_fragment_recovers_every_whole_fragment_and_nothing_else(tmp_path: Path) -> None:
    [chunk] = _record(tmp_path / "rec", loops=1, max_chunk_ms=60_000)
    spool = tmp_path / "spool"
    spool.mkdir()
    cut = chunk.meta.fragments[1].offset + 100  # the host died while writing the 2nd fragment
    (spool / "1800000000000.part").write_bytes(chunk.data[:cut])
    (spool / "1800000009000.part").write_bytes(chunk.data[: chunk.meta.init_length + 10])  # no whole fragment
    assert recover(spool) == 1
    [closed] = pending(spool)
    data = closed.read_bytes()
    assert data == chunk.data[: chunk.meta.fragments[1].offset]
    assert complete_prefix_length(data) == len(data)
    meta = describe_chunk(data, tenant_id=uuid4(), camera_id=uuid4(), start_ms=start_ms_of(closed))
    assert [f.duration_ms for f in meta.fragments] == [2000]
    assert decode_chunk(data).frames == 20
    assert not list(spool.glob("*.part"))


def test_a_fragment_of_more_pieces_than_one_writev_takes_is_written_whole(tmp_path: Path) -> None:
    writer = SpoolWriter(tmp_path, fsync=FsyncPolicy.FRAGMENT)
    writer.open_chunk(1, b"init")
    pieces = [i.to_bytes(2, "big") for i in range(3000)]  # a long GOP of sliced frames: over IOV_MAX (1024)
    writer.append(pieces)
    writer.append([b"tail"])
    closed = writer.close_chunk()
    assert closed is not None and closed.read_bytes() == b"init" + b"".join(pieces) + b"tail"


def test_spool_refuses_new_chunks_when_the_budget_is_exhausted(tmp_path: Path) -> None:
    writer = SpoolWriter(tmp_path, fsync=FsyncPolicy.FRAGMENT, has_room=lambda: False)
    with pytest.raises(SpoolFull):
        writer.open_chunk(1, b"init")


def test_b_frames_are_recorded_whole(tmp_path: Path) -> None:
    chunks = _record(tmp_path, loops=3, max_chunk_ms=5000, bframes=2)
    assert len(chunks) == 3
    for before, after in itertools.pairwise(chunks):
        assert before.meta.end == after.meta.start
    for chunk in chunks:
        decoded = decode_chunk(chunk.data)
        assert decoded.frames == 40
        assert (chunk.meta.end - chunk.meta.start).total_seconds() == pytest.approx(4.0, abs=0.001)


@pytest.mark.parametrize("jump_at", [25, 40], ids=["inside a GOP", "at a keyframe"])
def test_a_forward_jump_under_the_discontinuity_bound_stays_one_run_without_a_hole(tmp_path: Path,
                                                                                   jump_at: int) -> None:
    # The farm's timeline skipping ahead by 1 s (LATE_RESYNC_S) looks like this to the recorder: docs/time.md keeps
    # a run through a forward jump under 10 s, so the frame before the jump lasts until the next and the chunks
    # still touch. A farm skip therefore never shows as a hole in the index (it shows as a long frame).
    chunks = _record(tmp_path, loops=3, max_chunk_ms=5000, jump_at=jump_at, jump_s=1.0)
    for before, after in itertools.pairwise(chunks):
        assert before.meta.end == after.meta.start
    assert (chunks[-1].meta.end - chunks[0].meta.start).total_seconds() == pytest.approx(13.0, abs=0.001)
    assert sum(decode_chunk(c.data).frames for c in chunks) == 3 * 4 * FPS


def test_timestamp_reset_starts_a_new_run_that_never_overlaps(tmp_path: Path) -> None:
    chunks = _record(tmp_path, loops=4, max_chunk_ms=60_000, reset_every=2)  # timeline restarts after 8 s
    assert len(chunks) == 2, "one chunk per run"
    first, second = chunks
    assert all(c.meta.end > c.meta.start for c in chunks)
    assert second.meta.start >= first.meta.end
    assert [(c.meta.end - c.meta.start).total_seconds() for c in chunks] == [8.0, 8.0]
    assert [decode_chunk(c.data).frames for c in chunks] == [80, 80]
