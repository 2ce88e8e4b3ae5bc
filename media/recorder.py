"""One recording run: packets from a source → fMP4 fragments → chunks.

``record_run`` is the blocking loop a camera's ingest thread runs until the
source ends, fails or is told to stop. Wall-clock time follows docs/time.md: a
run's start is the host's UTC clock at its first packet (corrected for packets
FFmpeg buffered while probing), and every later instant is that start plus
media time from the container's own timestamps.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import av

from domain.recording import chunk_should_close
from domain.timestamps import Stamp, backfill, is_discontinuity
from media.fragmenter import Fragment, Fragmenter
from media.ingest_stats import IngestStats
from media.lean_demux import RawPacket
from media.live import LiveFeed
from media.run_clock import RunClock
from media.sources import PacketSource

_MAX_HELD = 16  # video packets without DTS tolerated at a run's start


class ChunkSink(Protocol):
    """Where chunks are written as they grow (the camera's spool)."""

    def open_chunk(self, start_ms: int, init: bytes) -> None: ...

    def append(self, parts: Sequence[bytes]) -> None: ...

    def close_chunk(self) -> Path | None: ...


class ChunkAssembler:
    """Cuts one run's fragments into chunks of at most ``max_chunk_ms``, written to a sink."""

    def __init__(self, sink: ChunkSink, max_chunk_ms: int) -> None:
        self._sink = sink
        self._max_chunk_ms = max_chunk_ms
        self._init = b""
        self._start_ms: int | None = None
        self._end_ms = 0

    def add(self, init: bytes, wall_start_ms: int, duration_ms: int, parts: Sequence[bytes]) -> list[Path]:
        """Add a fragment (its pieces); return the chunks that are complete now.

        A chunk closes as soon as a next fragment as long as this one would not
        fit, so it is stored without waiting a GOP for that next fragment.
        """
        closed: list[Path] = []
        if self._start_ms is not None and (
            init != self._init or chunk_should_close(self._span_ms(), duration_ms, self._max_chunk_ms)
        ):
            closed += self._flushed()
        if self._start_ms is None:
            self._sink.open_chunk(wall_start_ms, init)
            self._init, self._start_ms = init, wall_start_ms
        self._sink.append(parts)
        self._end_ms = wall_start_ms + duration_ms
        if chunk_should_close(self._span_ms(), duration_ms, self._max_chunk_ms):
            closed += self._flushed()
        return closed

    def _span_ms(self) -> int:
        return 0 if self._start_ms is None else self._end_ms - self._start_ms

    def _flushed(self) -> list[Path]:
        path = self.flush()
        return [path] if path else []

    def flush(self) -> Path | None:
        self._start_ms = None
        return self._sink.close_chunk()

class _Run:
    """One contiguous recording: one muxer (one init segment), one clock."""

    def __init__(self, source: PacketSource, assembler: ChunkAssembler, stats: IngestStats,
                 on_chunk: Callable[[Path], None], clock: RunClock, live: LiveFeed | None = None) -> None:
        self._video = source.video
        self._video_index = source.video.index
        assert source.video.time_base is not None
        self._tb_s = float(source.video.time_base)  # a float, not the Fraction: no Fraction arithmetic per packet
        self._fragmenter = Fragmenter(source.video, source.audio)
        self._assembler = assembler
        self._stats = stats
        self._on_chunk = on_chunk
        self.clock = clock
        self.last_dts: dict[int, int] = {}
        self.end_ms: int | None = None
        self._first_media_s = 0.0  # media seconds of the first video packet muxed
        self._tfdt0: int | None = None  # container decode time of the first fragment
        self._live = live
        if live is not None:
            live.run_started(source.video)

    def video_dts_s(self) -> float | None:
        dts = self.last_dts.get(self._video_index)
        return None if dts is None else dts * self._tb_s

    def mux(self, packet: RawPacket, index: int) -> None:
        """Mux one packet of input stream ``index`` (the caller has read it once already)."""
        dts = packet.dts
        last = self.last_dts.get(index)
        if dts is None or (last is not None and dts <= last):
            self._stats.dropped += 1
            return
        if index == self._video_index:
            media_s = dts * self._tb_s
            if last is None:
                self._first_media_s = media_s
            self.clock.observe(media_s)
            if packet.is_keyframe:
                self._stats.on_keyframe(media_s)
        elif self._video_index not in self.last_dts:
            return  # a run starts with its first video keyframe
        self.last_dts[index] = dts
        fragments = self._fragmenter.mux(packet, index)
        if fragments:
            self._emit(fragments)
        if self._live is not None and index == self._video_index:
            self._live.video_packet(packet, time.time())

    def finish(self) -> int | None:
        """Flush the last fragment and chunk; return the run's wall-clock end (ms)."""
        if self._video_index in self.last_dts:
            self._emit(self._fragmenter.close())
        last = self._assembler.flush()
        if last is not None:
            self._on_chunk(last)
        if self._live is not None:
            self._live.run_ended()
        return self.end_ms

    def _emit(self, fragments: list[Fragment]) -> None:
        init = self._fragmenter.init
        for fragment in fragments:
            assert init is not None
            if self._tfdt0 is None:
                self._tfdt0 = fragment.decode_time
            media_s = self._first_media_s + (fragment.decode_time - self._tfdt0) / fragment.timescale
            start_ms = self.clock.wall_ms(media_s)
            # The end from the unrounded timeline, not start + rounded duration: the next fragment starts at
            # exactly this millisecond, so chunks touch (no ±1 ms seams from rounding twice).
            end_media_s = self._first_media_s + (fragment.decode_time + fragment.duration - self._tfdt0) / fragment.timescale
            self.end_ms = max(start_ms, self.clock.wall_ms(end_media_s))
            for chunk in self._assembler.add(init, start_ms, self.end_ms - start_ms, fragment.parts):
                self._on_chunk(chunk)
            if self._live is not None:
                self._live.gop(init, start_ms, fragment)


def record_run(
    source: PacketSource,
    *,
    max_chunk_ms: int,
    on_chunk: Callable[[Path], None],
    stop: threading.Event,
    sink: ChunkSink,
    stats: IngestStats,
    now: Callable[[], float] = time.time,
    monotonic: Callable[[], float] = time.monotonic,
    not_before_ms: int | None = None,
    live: LiveFeed | None = None,
) -> int | None:
    """Record ``source`` into ``sink`` until it ends or ``stop`` is set; ``on_chunk`` gets each closed chunk.

    A run starts at a video keyframe. Leading video packets without a DTS (the
    RTSP keyframe, and B-frame streams' first packets) are held and backfilled
    from the first DTS that follows rather than dropped (which would lose a
    GOP). A timestamp reset or jump, or a wall-clock step, ends the run; the
    next keyframe starts a new one that begins no earlier than the last ended.
    Packets whose DTS does not increase are dropped and counted. Returns the
    wall-clock end (ms) of what was recorded, for the caller's next run.
    ``live``, if given, is fed every accepted video packet and every fragment.
    """
    video = source.video
    video_index = video.index
    assert video.time_base is not None
    tb_s = float(video.time_base)
    frame_ticks = _frame_ticks(video)
    run: _Run | None = None
    held: list[RawPacket] = []
    end_ms = not_before_ms

    def new_run() -> _Run:
        clock = RunClock(now, monotonic, not_before_ms=end_ms)
        return _Run(source, ChunkAssembler(sink, max_chunk_ms), stats, on_chunk, clock, live)

    try:
        for packet in source.packets(stop):
            index = packet.stream_index
            is_video = index == video_index
            size = packet.size
            stats.on_packet(size, is_video, time.monotonic())
            if size == 0:
                continue
            dts = packet.dts
            if run is not None and is_video and dts is not None:
                previous = run.video_dts_s()
                # The wall clock is checked at keyframes only: a step is rare, and a run may end at a GOP boundary.
                if (packet.is_keyframe and run.clock.wall_clock_stepped()) or (
                    previous is not None and is_discontinuity(previous, dts * tb_s)
                ):
                    end_ms = run.finish() or end_ms
                    run = None
            if run is None:
                if not (is_video and packet.is_keyframe):
                    continue
                run = new_run()
            if held or (is_video and dts is None and video_index not in run.last_dts):
                if not is_video:
                    continue  # nothing is muxed before the held video is stamped
                if packet.dts is None:
                    held.append(packet)
                    if len(held) > _MAX_HELD:
                        stats.dropped += len(held)
                        held, run = [], None
                    continue
                stamps = backfill([Stamp(p.pts, p.dts) for p in held], packet.dts, frame_ticks)
                for held_packet, (pts, dts) in zip(held, stamps, strict=True):
                    held_packet.pts, held_packet.dts = pts, dts
                    run.mux(held_packet, video_index)
                held = []
            run.mux(packet, index)
    finally:
        if run is not None:
            end_ms = run.finish() or end_ms
    return end_ms


def _frame_ticks(video: av.video.stream.VideoStream) -> int:
    rate = video.guessed_rate or video.average_rate
    tb = video.time_base
    if not rate or not tb:
        return 1
    return max(1, round(1 / (rate * tb)))
