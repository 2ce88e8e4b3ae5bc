"""Remux packets into fragmented MP4 and split the output into init + fragments.

One PyAV mp4 muxer per recording run writes into ``_BoxSplitter``, a write-only
file-like (no ``seek``, so FFmpeg never rewrites earlier bytes). With
``frag_keyframe`` every GOP becomes one ``moof``+``mdat`` fragment; the
``ftyp``+``moov`` written first is the run's init segment. Packets are never
decoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import av

from media.boxes import TrackInfo, read_box_header, read_moof, read_tracks

MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof"  # recording: one fragment per GOP
LIVE_MOVFLAGS = "frag_every_frame+empty_moov+default_base_moof"  # live view: one fragment per frame
_NONE: list[Fragment] = []  # returned when a packet completed no fragment; callers only read it


@dataclass(frozen=True)
class Fragment:
    """One moof+mdat; times are in the video track's timescale."""

    data: bytes
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
    """File-like sink that cuts the muxer's byte stream into top-level boxes."""

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


class Fragmenter:
    """fMP4 muxer for one run of one camera: packets in, init + fragments out."""

    def __init__(self, video: av.video.stream.VideoStream, audio: av.audio.stream.AudioStream | None = None,
                 *, movflags: str = MOVFLAGS) -> None:
        self._sink = _BoxSplitter()
        self._out = av.open(
            self._sink, mode="w", format="mp4",
            options={"movflags": movflags, "flush_packets": "1"},
        )
        self._streams: dict[int, Any] = {video.index: self._out.add_stream_from_template(video)}
        if audio is not None:
            self._streams[audio.index] = self._out.add_stream_from_template(audio)
        self._video_source_index = video.index
        self.init: bytes | None = None
        self._tracks: dict[int, TrackInfo] = {}
        self._video_track = 0
        self._moof: bytes | None = None
        self._closed = False

    def mux(self, packet: av.Packet, source_index: int) -> list[Fragment]:
        """Mux one demuxed packet; return the fragments it completed."""
        packet.stream = self._streams[source_index]
        self._out.mux(packet)
        return self._collect()

    def close(self) -> list[Fragment]:
        """Flush the last fragment and close the muxer."""
        if not self._closed:
            self._closed = True
            self._out.close()
        return self._collect()

    def _collect(self) -> list[Fragment]:
        if not self._sink.boxes:
            return _NONE  # the common case (a packet inside a GOP): nothing to allocate
        fragments: list[Fragment] = []
        boxes, self._sink.boxes = self._sink.boxes, []
        for kind, data in boxes:
            if self.init is None or kind in (b"ftyp", b"moov"):
                self._add_init_box(kind, data)
            elif kind == b"moof":
                self._moof = data
            elif kind == b"mdat" and self._moof is not None:
                fragments.append(self._fragment(self._moof, data))
                self._moof = None
            # mfra and other trailer boxes are not part of any fragment.
        return fragments

    def _add_init_box(self, kind: bytes, data: bytes) -> None:
        self.init = (self.init or b"") + data
        if kind == b"moov":
            self._tracks = read_tracks(self.init)
            self._video_track = next(t.track_id for t in self._tracks.values() if t.handler == b"vide")

    def _fragment(self, moof: bytes, mdat: bytes) -> Fragment:
        box = read_box_header(moof, 0)
        assert box is not None
        run = read_moof(moof, box, self._tracks)[self._video_track]
        timescale = self._tracks[self._video_track].timescale
        return Fragment(moof + mdat, run.base_decode_time, run.duration, timescale)
