"""Minimal ISO-BMFF (MP4) box reading: just what fragment indexing needs.

The muxer's output is split into top-level boxes; the init segment's ``moov``
gives each track's timescale, and each ``moof`` gives its video track's
decode time and duration. Reading those from the container (rather than from
packets) makes the index agree exactly with what players will see.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Iterator
from dataclasses import dataclass

Buffer = bytes | bytearray | memoryview | mmap.mmap  # a chunk in memory, or a spool file mapped
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"mvex", b"moof", b"traf", b"edts"}


@dataclass(frozen=True)
class Box:
    type: bytes
    offset: int  # of the box header within the buffer
    size: int  # whole box, header included
    header: int  # header length (8, or 16 for 64-bit sizes)

    @property
    def body(self) -> slice:
        return slice(self.offset + self.header, self.offset + self.size)


def read_box_header(data: Buffer, offset: int) -> Box | None:
    """The box starting at ``offset``, or None if ``data`` does not hold its header yet."""
    if len(data) - offset < 8:
        return None
    size, kind = struct.unpack_from(">I4s", data, offset)
    header = 8
    if size == 1:
        if len(data) - offset < 16:
            return None
        (size,) = struct.unpack_from(">Q", data, offset + 8)
        header = 16
    elif size == 0:
        size = len(data) - offset
    if size < header:
        raise ValueError(f"corrupt MP4 box {kind!r} of size {size} at {offset}")
    return Box(kind, offset, size, header)


def iter_boxes(data: Buffer, start: int = 0, end: int | None = None) -> Iterator[Box]:
    """The complete boxes between ``start`` and ``end``."""
    end = len(data) if end is None else end
    pos = start
    while pos < end:
        box = read_box_header(data, pos)
        if box is None or box.offset + box.size > end:
            return
        yield box
        pos += box.size


def find(data: Buffer, path: list[bytes], start: int = 0, end: int | None = None) -> list[Box]:
    """All boxes at ``path`` (e.g. [b"moov", b"trak"]) under the range."""
    found: list[Box] = []
    for box in iter_boxes(data, start, end):
        if box.type != path[0]:
            continue
        if len(path) == 1:
            found.append(box)
        elif box.type in _CONTAINERS:
            body = box.body
            found.extend(find(data, path[1:], body.start, body.stop))
    return found


_SAMPLE_ENTRY_CODECS = {b"avc1": "h264", b"avc3": "h264", b"hvc1": "hevc", b"hev1": "hevc", b"mp4a": "aac"}


@dataclass(frozen=True)
class TrackInfo:
    track_id: int
    handler: bytes  # b"vide", b"soun", ...
    timescale: int
    default_sample_duration: int
    codec: str  # from the sample entry: h264, hevc, aac, or the raw fourcc
    width: int = 0
    height: int = 0


def read_tracks(init: bytes) -> dict[int, TrackInfo]:
    """Tracks of an init segment (``ftyp`` + ``moov``) by track id."""
    defaults: dict[int, int] = {}
    for trex in find(init, [b"moov", b"mvex", b"trex"]):
        track_id, _desc, duration = struct.unpack_from(">III", init, trex.body.start + 4)
        defaults[track_id] = duration
    tracks: dict[int, TrackInfo] = {}
    for trak in find(init, [b"moov", b"trak"]):
        body = trak.body
        tkhd = find(init, [b"tkhd"], body.start, body.stop)[0]
        version = init[tkhd.body.start]
        track_id = struct.unpack_from(">I", init, tkhd.body.start + (20 if version == 1 else 12))[0]
        mdhd = find(init, [b"mdia", b"mdhd"], body.start, body.stop)[0]
        version = init[mdhd.body.start]
        timescale = struct.unpack_from(">I", init, mdhd.body.start + (20 if version == 1 else 12))[0]
        hdlr = find(init, [b"mdia", b"hdlr"], body.start, body.stop)[0]
        handler = bytes(init[hdlr.body.start + 8 : hdlr.body.start + 12])
        stsd = find(init, [b"mdia", b"minf", b"stbl", b"stsd"], body.start, body.stop)[0]
        entry = read_box_header(init, stsd.body.start + 8)  # after version/flags and entry count
        fourcc = entry.type if entry else b"????"
        codec = _SAMPLE_ENTRY_CODECS.get(fourcc, fourcc.decode("latin-1"))
        width = height = 0
        if handler == b"vide" and entry is not None:
            # VisualSampleEntry: 8 header + 6 reserved + 2 index + 16 pre-defined, then width, height.
            width, height = struct.unpack_from(">HH", init, entry.offset + 32)
        tracks[track_id] = TrackInfo(track_id, handler, timescale, defaults.get(track_id, 0), codec, width, height)
    return tracks


@dataclass(frozen=True)
class TrackRun:
    """A track's decode time and total sample duration within one ``moof``."""

    base_decode_time: int
    duration: int
    samples: int


def read_moof(data: Buffer, moof: Box, tracks: dict[int, TrackInfo]) -> dict[int, TrackRun]:
    """Per-track timing of a ``moof`` box."""
    runs: dict[int, TrackRun] = {}
    body = moof.body
    for traf in find(data, [b"traf"], body.start, body.stop):
        tb = traf.body
        tfhd = find(data, [b"tfhd"], tb.start, tb.stop)[0]
        flags = int.from_bytes(data[tfhd.body.start + 1 : tfhd.body.start + 4], "big")
        track_id = struct.unpack_from(">I", data, tfhd.body.start + 4)[0]
        pos = tfhd.body.start + 8
        pos += 8 if flags & 0x01 else 0  # base-data-offset
        pos += 4 if flags & 0x02 else 0  # sample-description-index
        default_duration = tracks[track_id].default_sample_duration if track_id in tracks else 0
        if flags & 0x08:
            default_duration = struct.unpack_from(">I", data, pos)[0]
        base = 0
        for tfdt in find(data, [b"tfdt"], tb.start, tb.stop):
            version = data[tfdt.body.start]
            fmt = ">Q" if version == 1 else ">I"
            base = struct.unpack_from(fmt, data, tfdt.body.start + 4)[0]
        duration = samples = 0
        for trun in find(data, [b"trun"], tb.start, tb.stop):
            tflags = int.from_bytes(data[trun.body.start + 1 : trun.body.start + 4], "big")
            count = struct.unpack_from(">I", data, trun.body.start + 4)[0]
            pos = trun.body.start + 8
            pos += 4 if tflags & 0x001 else 0
            pos += 4 if tflags & 0x004 else 0
            per_sample = sum(4 for bit in (0x100, 0x200, 0x400, 0x800) if tflags & bit)
            samples += count
            if tflags & 0x100:
                for i in range(count):
                    duration += struct.unpack_from(">I", data, pos + i * per_sample)[0]
            else:
                duration += count * default_duration
        runs[track_id] = TrackRun(base, duration, samples)
    return runs
