"""Evidence clips: recorded fragments remuxed into one progressive MP4 (faststart), never transcoded.

A clip is made of *pieces*, each an init segment plus the consecutive
fragments of one chunk that cover the requested range. Each piece's media time
is re-based onto the wall clock (``wall_start_ms`` − the clip's origin), so a
clip across a gap keeps real time — a court sees when each frame was
recorded — and timestamps never go backwards across chunks or runs.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av


@dataclass(frozen=True)
class ClipPiece:
    wall_start_ms: int  # UTC epoch ms of the piece's first fragment (a keyframe)
    data: bytes  # init segment + whole fragments


@dataclass(frozen=True)
class ClipResult:
    first_frame_ms: int  # UTC epoch ms
    last_frame_ms: int
    video_frames: int


class ClipFormatChanged(ValueError):
    """The range spans a change of codec or resolution: one MP4 cannot hold both."""


def _format(stream: Any) -> tuple[Any, ...]:
    ctx = stream.codec_context
    if stream.type == "video":
        return (stream.type, ctx.name, ctx.width, ctx.height)
    return (stream.type, ctx.name, ctx.sample_rate)


def remux_clip(pieces: Iterable[ClipPiece], out_path: Path, *, origin_ms: int, title: str = "",
               progress: Callable[[int], None] = lambda _: None) -> ClipResult:
    """Write ``pieces`` (in time order) to ``out_path``; ``progress`` gets the number of pieces done."""
    output = av.open(str(out_path), mode="w", format="mp4", options={"movflags": "+faststart"})
    if title:
        output.metadata["title"] = title
    streams: dict[str, Any] = {}  # "video" / "audio" → output stream
    formats: dict[str, tuple[Any, ...]] = {}
    last_dts: dict[str, int] = {}
    first_ms: int | None = None
    last_ms = origin_ms
    frames = 0
    try:
        for done, piece in enumerate(pieces, 1):
            with av.open(io.BytesIO(piece.data), mode="r") as source:
                inputs = list(source.streams.video[:1]) + list(source.streams.audio[:1])
                for stream in inputs:
                    kind = stream.type
                    if kind not in streams:
                        if done > 1:
                            raise ClipFormatChanged(f"a {kind} track appears within the range")
                        streams[kind] = output.add_stream_from_template(stream)
                        formats[kind] = _format(stream)
                    elif formats[kind] != _format(stream):
                        raise ClipFormatChanged(
                            f"the camera's {kind} format changed within the range ({formats[kind]} → {_format(stream)});"
                            " export the parts before and after the change separately")
                packets: list[Any] = [p for p in source.demux(*inputs) if p.dts is not None and p.size]
                video_dts = [float(p.dts * p.time_base) for p in packets if p.stream.type == "video"]
                if not video_dts:
                    continue
                shift_s = (piece.wall_start_ms - origin_ms) / 1000 - min(video_dts)
                for packet in packets:
                    track = packet.stream.type
                    tb = packet.time_base
                    ticks = round(shift_s / tb)
                    dts = packet.dts + ticks
                    pts = (packet.pts + ticks) if packet.pts is not None else dts
                    if track in last_dts and dts <= last_dts[track]:  # ms rounding between chunks
                        pts += last_dts[track] + 1 - dts
                        dts = last_dts[track] + 1
                    packet.dts, packet.pts = dts, pts
                    last_dts[track] = dts
                    if track == "video":
                        frame_ms = origin_ms + round(float(pts * tb) * 1000)
                        first_ms = frame_ms if first_ms is None else min(first_ms, frame_ms)
                        last_ms = max(last_ms, frame_ms)
                        frames += 1
                    packet.stream = streams[track]
                    output.mux(packet)
            progress(done)
    finally:
        output.close()
    if first_ms is None:
        raise ValueError("no video in the clip's range")
    return ClipResult(first_ms, last_ms, frames)
