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
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import av

from domain.recording import chunk_should_close
from media.fragmenter import Fragment, Fragmenter
from media.sources import PacketSource


class ChunkSink(Protocol):
    """Where chunks are written as they grow (the camera's spool)."""

    def open_chunk(self, start_ms: int, init: bytes) -> None: ...

    def append(self, data: bytes) -> None: ...

    def close_chunk(self) -> Path | None: ...


class RunClock:
    """Maps media seconds of one run to UTC epoch milliseconds.

    Until frozen, the start is the minimum over packets of (arrival − media
    offset): packets FFmpeg held back while probing arrive late and so never
    pull the start later than the first on-time packet says. It freezes at the
    first fragment so that chunks already written never move.
    """

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self._now = now
        self._media0: float | None = None
        self._start_s: float | None = None
        self._frozen = False

    def observe(self, media_s: float) -> None:
        if self._frozen:
            return
        if self._media0 is None:
            self._media0 = media_s
        estimate = self._now() - (media_s - self._media0)
        self._start_s = estimate if self._start_s is None else min(self._start_s, estimate)

    def wall_ms(self, media_s: float) -> int:
        if self._start_s is None or self._media0 is None:
            raise RuntimeError("RunClock has seen no packet")
        self._frozen = True
        return round((self._start_s + media_s - self._media0) * 1000)


class ChunkAssembler:
    """Cuts one run's fragments into chunks of at most ``max_chunk_ms``, written to a sink."""

    def __init__(self, sink: ChunkSink, max_chunk_ms: int) -> None:
        self._sink = sink
        self._max_chunk_ms = max_chunk_ms
        self._init = b""
        self._start_ms: int | None = None
        self._end_ms = 0

    def add(self, init: bytes, wall_start_ms: int, duration_ms: int, data: bytes) -> list[Path]:
        """Add a fragment; return the chunks that are complete now.

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
        self._sink.append(data)
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


@dataclass
class IngestStats:
    """Live counters of one camera's ingest, read by the status endpoint."""

    window_s: float = 5.0
    packets: int = 0
    dropped: int = 0
    last_packet_at: float | None = None  # time.monotonic()
    keyframe_interval_s: float | None = None  # media time between the last two keyframes
    _last_keyframe_media_s: float | None = None
    _video: deque[tuple[float, int]] = field(default_factory=deque)

    def on_keyframe(self, media_s: float) -> None:
        if self._last_keyframe_media_s is not None and media_s > self._last_keyframe_media_s:
            self.keyframe_interval_s = round(media_s - self._last_keyframe_media_s, 3)
        self._last_keyframe_media_s = media_s

    def on_packet(self, size: int, is_video: bool, at: float) -> None:
        self.packets += 1
        self.last_packet_at = at
        if is_video:
            self._video.append((at, size))
            while self._video and self._video[0][0] < at - self.window_s:
                self._video.popleft()

    def fps(self) -> float | None:
        if len(self._video) < 2:
            return None
        span = self._video[-1][0] - self._video[0][0]
        return (len(self._video) - 1) / span if span > 0 else None

    def bitrate_bps(self) -> float | None:
        if len(self._video) < 2:
            return None
        span = self._video[-1][0] - self._video[0][0]
        return sum(s for _, s in list(self._video)[1:]) * 8 / span if span > 0 else None


def record_run(
    source: PacketSource,
    *,
    max_chunk_ms: int,
    on_chunk: Callable[[Path], None],
    stop: threading.Event,
    sink: ChunkSink,
    stats: IngestStats,
    now: Callable[[], float] = time.time,
) -> None:
    """Record ``source`` into ``sink`` until it ends or ``stop`` is set; ``on_chunk`` gets each closed chunk.

    Recording starts at the first video keyframe. FFmpeg's RTSP client hands the
    first keyframe over without timestamps; it is held and stamped one frame
    before the next video packet rather than dropped (which would lose a GOP).
    Packets whose DTS does not increase are dropped and counted.
    """
    video = source.video
    assert video.time_base is not None
    video_tb = video.time_base
    frame_ticks = _frame_ticks(video)
    fragmenter = Fragmenter(video, source.audio)
    clock = RunClock(now)
    assembler = ChunkAssembler(sink, max_chunk_ms)
    tfdt0: int | None = None  # container decode time of the first fragment
    last_dts: dict[int, int] = {}
    held: av.Packet | None = None
    started = False
    first_media_s = 0.0  # media seconds of the first video packet muxed

    def emit(fragments: list[Fragment]) -> None:
        nonlocal tfdt0
        for fragment in fragments:
            if tfdt0 is None:
                tfdt0 = fragment.decode_time
            # The first fragment starts with the first video packet muxed.
            media_s = first_media_s + (fragment.decode_time - tfdt0) / fragment.timescale
            assert fragmenter.init is not None
            for chunk in assembler.add(fragmenter.init, clock.wall_ms(media_s), fragment.duration_ms, fragment.data):
                on_chunk(chunk)

    def mux(packet: av.Packet) -> None:
        nonlocal first_media_s
        index = packet.stream.index
        if packet.dts is None or (index in last_dts and packet.dts <= last_dts[index]):
            stats.dropped += 1
            return
        if index == video.index:
            media_s = float(packet.dts * video_tb)
            if index not in last_dts:
                first_media_s = media_s
            clock.observe(media_s)
            if packet.is_keyframe:
                stats.on_keyframe(media_s)
        last_dts[index] = packet.dts
        emit(fragmenter.mux(packet, index))

    try:
        for packet in source.packets(stop):
            is_video = packet.stream.index == video.index
            stats.on_packet(packet.size, is_video, time.monotonic())
            if packet.size == 0:
                continue
            if not started:
                if not (is_video and packet.is_keyframe):
                    continue
                started = True
                if packet.dts is None:
                    held = packet
                    continue
            if held is not None:
                if not is_video or packet.dts is None:
                    continue  # nothing is muxed before the held keyframe is stamped
                held.dts = held.pts = packet.dts - frame_ticks
                mux(held)
                held = None
            mux(packet)
    finally:
        if video.index in last_dts:
            emit(fragmenter.close())
            last = assembler.flush()
            if last is not None:
                on_chunk(last)


def _frame_ticks(video: av.video.stream.VideoStream) -> int:
    rate = video.guessed_rate or video.average_rate
    tb = video.time_base
    if not rate or not tb:
        return 1
    return max(1, round(1 / (rate * tb)))
