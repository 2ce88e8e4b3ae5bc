"""Packets into fragmented MP4: the run's init segment, then one ``moof``+``mdat`` per GOP (or per frame).

FFmpeg writes the init segment (``ftyp``+``moov``: codec configuration,
track ids and timescales) once per run, exactly as its mp4 muxer would for
these streams. The fragments are written here: samples are only appended to
a list as they arrive, and a fragment is packed with a few ``struct`` calls
when the next keyframe (or, for the live view, the next frame) makes it
complete, as FFmpeg's ``frag_keyframe`` / ``frag_every_frame`` do. Remuxing
through FFmpeg cost a call into the muxer per packet, with the GIL let go
and taken back around it; with dozens of cameras per host each such hand-off
is one more thread switch (docs/density.md). Packets are never decoded.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import av

from media.boxes import read_box_header, read_tracks
from media.lean_demux import RawPacket

_INIT_MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof"
_DEFAULT_BASE_IS_MOOF = 0x020000
_TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800  # data offset; per-sample duration, size,
_SYNC_SAMPLE = 0x02000000  # flags, composition offset.          sample_depends_on = 2 (an I-frame)
_NON_SYNC_SAMPLE = 0x01010000  # sample_depends_on = 1, sample_is_non_sync_sample
_NONE: list[Fragment] = []  # returned when a packet completed no fragment; callers only read it


class InPieces:
    """Bytes kept as the pieces they were made of: the spool writes a fragment's pieces with one ``writev``, so a
    GOP is never joined into one buffer on the recording path; ``data`` joins them for whoever needs one piece."""

    parts: tuple[bytes, ...]

    @property
    def data(self) -> bytes:
        return b"".join(self.parts)

    @property
    def size(self) -> int:
        return sum(map(len, self.parts))


@dataclass(frozen=True)
class Fragment(InPieces):
    """One moof+mdat, in pieces: the moof, the mdat header, each sample. Times are in the video track's
    timescale."""

    parts: tuple[bytes, ...]
    decode_time: int
    duration: int
    timescale: int

    @property
    def start_s(self) -> float:
        return self.decode_time / self.timescale

    @property
    def duration_ms(self) -> int:
        return round(self.duration * 1000 / self.timescale)


class _BoxSplitter:
    """File-like sink that cuts a muxer's byte stream into top-level boxes."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.boxes: list[tuple[bytes, bytes]] = []

    def write(self, data: Any) -> int:
        self._buffer += data
        while True:
            box = read_box_header(self._buffer, 0)
            if box is None or box.size > len(self._buffer):
                break
            self.boxes.append((box.type, bytes(self._buffer[: box.size])))
            del self._buffer[: box.size]
        return len(data)

    def flush(self) -> None:
        pass


def init_segment(streams: Sequence[av.stream.Stream]) -> bytes:
    """``ftyp``+``moov`` for remuxing ``streams`` (tracks 1, 2, … in that order), as FFmpeg writes it."""
    sink = _BoxSplitter()
    out = av.open(sink, mode="w", format="mp4", options={"movflags": _INIT_MOVFLAGS})
    try:
        for stream in streams:
            out.add_stream_from_template(stream)
        out.start_encoding()
        return b"".join(data for kind, data in sink.boxes if kind in (b"ftyp", b"moov"))
    finally:
        out.close()


@dataclass
class _Track:
    """One output track: how its source's timestamps become the track's, and its samples not yet written."""

    track_id: int
    timescale: int
    to_track: Fraction  # source time base × track timescale
    samples: list[RawPacket] = field(default_factory=list)
    length_prefixed: bool = False  # H.264/HEVC in Annex B (an RTSP camera's): NAL units get 4-byte lengths
    base: int = 0  # track ticks of the run's first video DTS: decode times start at 0 for every track
    last_duration: int = 0

    def ticks(self, source_ts: int) -> int:
        scale = self.to_track
        if scale.denominator == 1:
            return source_ts * scale.numerator
        return source_ts * scale.numerator // scale.denominator


class Fragmenter:
    """fMP4 for one run of one camera: packets in, ``init`` and fragments out (one per GOP, or per frame)."""

    def __init__(self, video: av.video.stream.VideoStream, audio: av.audio.stream.AudioStream | None = None,
                 *, per_frame: bool = False) -> None:
        sources = [s for s in (video, audio) if s is not None]
        self.init: bytes | None = init_segment(sources)
        tracks = read_tracks(self.init)
        self._tracks: dict[int, _Track] = {}
        for track_id, source in enumerate(sources, start=1):
            assert source.time_base is not None
            timescale = tracks[track_id].timescale
            self._tracks[source.index] = _Track(track_id, timescale, source.time_base * timescale,
                                                length_prefixed=_is_annex_b(source))
        self._video = self._tracks[video.index]
        self._per_frame = per_frame
        self._sequence = 0
        self._started = False

    def mux(self, packet: RawPacket, source_index: int) -> list[Fragment]:
        """Add one packet (its DTS set and increasing per stream); return the fragments it completed."""
        track = self._tracks[source_index]
        if track is self._video:
            if not self._started:
                self._start(packet)
            pending = self._video.samples
            if pending and (self._per_frame or packet.is_keyframe):
                fragment = self._fragment(self._video.ticks(packet.dts or 0))
                track.samples.append(packet)
                return [fragment]
        elif not self._started:
            return _NONE  # a fragment starts with video
        track.samples.append(packet)
        return _NONE

    def close(self) -> list[Fragment]:
        """The last fragment, with the last frame lasting as long as its packet says (or its predecessor)."""
        if not self._video.samples:
            return _NONE
        return [self._fragment(None)]

    def _start(self, packet: RawPacket) -> None:
        self._started = True
        first_s = (packet.dts or 0) * self._video.to_track / self._video.timescale
        for track in self._tracks.values():
            track.base = math.floor(first_s * track.timescale)

    def _fragment(self, next_video_ticks: int | None) -> Fragment:
        """Pack every pending sample into one moof+mdat; ``next_video_ticks`` ends the last video sample."""
        self._sequence += 1
        trafs: list[tuple[_Track, int, list[tuple[int, int, int, int]]]] = []
        payload: list[bytes] = []
        video_start = video_duration = 0
        for track in self._tracks.values():
            if not track.samples:
                continue
            datas = [_length_prefixed(p.data) for p in track.samples] if track.length_prefixed else \
                [p.data for p in track.samples]
            table, start, duration = self._sample_table(track, [len(d) for d in datas],
                                                        next_video_ticks if track is self._video else None)
            trafs.append((track, start, table))
            payload += datas
            track.samples = []
            if track is self._video:
                video_start, video_duration = start, duration
        moof = _moof(self._sequence, trafs)
        mdat_size = 8 + sum(len(p) for p in payload)
        parts = (moof, struct.pack(">I4s", mdat_size, b"mdat"), *payload)
        return Fragment(parts, video_start, video_duration, self._video.timescale)

    @staticmethod
    def _sample_table(track: _Track, sizes: list[int],
                      next_ticks: int | None) -> tuple[list[tuple[int, int, int, int]], int, int]:
        """(duration, size, flags, composition offset) per sample; the run's first decode time; the total."""
        samples = track.samples
        decode = [max(0, track.ticks(p.dts or 0) - track.base) for p in samples]
        if next_ticks is not None:
            end = max(decode[-1], next_ticks - track.base)
        else:  # the last sample: its packet's duration, else as long as the one before
            last = track.ticks(samples[-1].duration) if samples[-1].duration > 0 else track.last_duration
            end = decode[-1] + max(1, last)
        table = []
        for i, packet in enumerate(samples):
            duration = (decode[i + 1] if i + 1 < len(samples) else end) - decode[i]
            pts = packet.pts if packet.pts is not None else packet.dts or 0
            cts = track.ticks(pts) - track.ticks(packet.dts or 0)
            table.append((duration, sizes[i], _SYNC_SAMPLE if packet.is_keyframe else _NON_SYNC_SAMPLE, cts))
        if len(samples) > 1 or next_ticks is not None:
            track.last_duration = table[-1][0]
        return table, decode[0], end - decode[0]


def _is_annex_b(stream: av.stream.Stream) -> bool:
    """Whether the stream's H.264/HEVC comes with start codes (its configuration not an avcC/hvcC record, whose
    first byte is 1): FFmpeg's mp4 muxer then rewrites each packet, and so do we."""
    extradata = stream.codec_context.extradata
    return stream.codec_context.name in ("h264", "hevc") and extradata is not None and extradata[:1] not in (b"", b"\x01")


_START_CODE = b"\x00\x00\x01"


def annex_b_to_mp4(data: bytes) -> bytes:
    """NAL units separated by start codes → each preceded by its 4-byte length, as FFmpeg's mp4 muxer writes them
    (the zero before a 4-byte start code belongs to the start code, not to the NAL unit before it)."""
    start = data.find(_START_CODE)
    if start < 0:
        return data
    out = []
    start += 3
    while True:
        following = data.find(_START_CODE, start)
        end = len(data) if following < 0 else following
        if following >= 0 and end > start and data[end - 1] == 0:
            end -= 1
        out += [struct.pack(">I", end - start), data[start:end]]
        if following < 0:
            return b"".join(out)
        start = following + 3


try:  # the same in C, one scan and one copy (media/_nal.c): every byte of the video goes through it
    from media._nal import annex_b_to_mp4 as _length_prefixed
except ImportError:  # built without a C compiler
    _length_prefixed = annex_b_to_mp4


def _box(kind: bytes, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def _moof(sequence: int, trafs: list[tuple[_Track, int, list[tuple[int, int, int, int]]]]) -> bytes:
    """The ``moof``; each track's data offset points into the ``mdat`` that follows it, tracks in order."""
    def build(offsets: list[int]) -> bytes:
        boxes = [_box(b"mfhd", struct.pack(">II", 0, sequence))]
        for (track, start, table), offset in zip(trafs, offsets, strict=True):
            signed = any(cts < 0 for *_, cts in table)
            entries = struct.pack(">" + ("IIIi" if signed else "IIII") * len(table),
                                  *(value for row in table for value in row))
            boxes.append(_box(
                b"traf",
                _box(b"tfhd", struct.pack(">II", _DEFAULT_BASE_IS_MOOF, track.track_id)),
                _box(b"tfdt", struct.pack(">IQ", 1 << 24, start)),
                _box(b"trun", struct.pack(">IIi", (1 << 24 if signed else 0) | _TRUN_FLAGS, len(table), offset),
                     entries),
            ))
        return _box(b"moof", *boxes)

    sizes = [sum(size for _, size, _, _ in table) for _, _, table in trafs]
    size = len(build([0] * len(trafs)))  # the offsets do not change the moof's size
    offsets, at = [], size + 8
    for track_bytes in sizes:
        offsets.append(at)
        at += track_bytes
    return build(offsets)
