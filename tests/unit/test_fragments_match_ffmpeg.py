"""Our fragment writer against FFmpeg's own mp4 muxer, sample by sample, on real H.264 (+ AAC) packets.

The recorder writes ``moof``+``mdat`` itself (media/fragmenter.py); FFmpeg's
``frag_keyframe`` muxer is the reference: the same samples, in the same
fragments, with the same durations, sizes, sync flags and composition offsets.
"""

from __future__ import annotations

import io
import math
import struct
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np
import pytest

from media.boxes import find, iter_boxes
from media.fragmenter import Fragmenter, _BoxSplitter
from media.lean_demux import raw_packet
from media.sources import _encode_pattern


@dataclass(frozen=True)
class Sample:
    decode_time: int  # relative to the track's first
    duration: int
    size: int
    sync: bool
    cts: int


def _samples(data: bytes) -> dict[int, list[list[Sample]]]:
    """Per track id, per fragment, every sample of a stream of moof+mdat boxes (any tfhd/trun flag layout)."""
    tracks: dict[int, list[list[Sample]]] = {}
    for moof in (b for b in iter_boxes(data) if b.type == b"moof"):
        for traf in find(data, [b"traf"], moof.body.start, moof.body.stop):
            (tfhd,) = find(data, [b"tfhd"], traf.body.start, traf.body.stop)
            flags = int.from_bytes(data[tfhd.body.start + 1 : tfhd.body.start + 4], "big")
            (track_id,) = struct.unpack_from(">I", data, tfhd.body.start + 4)
            pos = tfhd.body.start + 8 + (8 if flags & 0x1 else 0) + (4 if flags & 0x2 else 0)
            defaults = {}
            for bit, name in ((0x8, "duration"), (0x10, "size"), (0x20, "flags")):
                if flags & bit:
                    (defaults[name],) = struct.unpack_from(">I", data, pos)
                    pos += 4
            (tfdt,) = find(data, [b"tfdt"], traf.body.start, traf.body.stop)
            version = data[tfdt.body.start]
            (time,) = struct.unpack_from(">Q" if version else ">I", data, tfdt.body.start + 4)
            fragment = []
            for trun in find(data, [b"trun"], traf.body.start, traf.body.stop):
                version = data[trun.body.start]
                tflags = int.from_bytes(data[trun.body.start + 1 : trun.body.start + 4], "big")
                (count,) = struct.unpack_from(">I", data, trun.body.start + 4)
                pos = trun.body.start + 8 + (4 if tflags & 0x1 else 0)
                first_flags = None
                if tflags & 0x4:
                    (first_flags,) = struct.unpack_from(">I", data, pos)
                    pos += 4
                for i in range(count):
                    row = {"duration": defaults.get("duration", 0), "size": defaults.get("size", 0),
                           "flags": defaults.get("flags", 0), "cts": 0}
                    if i == 0 and first_flags is not None:
                        row["flags"] = first_flags
                    for bit, name in ((0x100, "duration"), (0x200, "size"), (0x400, "flags"), (0x800, "cts")):
                        if tflags & bit:
                            (row[name],) = struct.unpack_from(">i" if name == "cts" and version else ">I", data, pos)
                            pos += 4
                    sync = not row["flags"] & 0x00010000
                    fragment.append(Sample(time, row["duration"], row["size"], sync, row["cts"]))
                    time += row["duration"]
            tracks.setdefault(track_id, []).append(fragment)
    for fragments in tracks.values():
        first = fragments[0][0].decode_time
        fragments[:] = [[Sample(s.decode_time - first, s.duration, s.size, s.sync, s.cts) for s in f]
                        for f in fragments]
    return tracks


def _clip(container: str, *, with_audio: bool = False) -> bytes:
    """4 s of H.264 (160×90, 10 fps, 2 s GOP), and AAC (48 kHz mono tone) if asked, in ``container``."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as out:
        video = out.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = 160, 90, "yuv420p"
        video.options = {"g": "20", "bf": "0", "preset": "ultrafast"}
        audio = out.add_stream("aac", rate=48000) if with_audio else None
        if audio is not None:
            audio.layout = "mono"
        tone = (np.sin(np.arange(48000 * 4) * 2 * math.pi * 440 / 48000) * 8000).astype(np.int16)
        for i in range(40):
            frame = av.VideoFrame.from_ndarray(np.full((90, 160, 3), i * 6, np.uint8), format="rgb24")
            frame.pts = i
            out.mux(video.encode(frame))
            if audio is not None:
                chunk = av.AudioFrame.from_ndarray(tone[None, i * 4800 : (i + 1) * 4800], format="s16", layout="mono")
                chunk.sample_rate, chunk.pts, chunk.time_base = 48000, i * 4800, Fraction(1, 48000)
                out.mux(audio.encode(chunk))
        out.mux(video.encode(None))
        if audio is not None:
            out.mux(audio.encode(None))
    return buffer.getvalue()


CLIPS = {"h264": lambda: _encode_pattern(320, 180, 10, 4), "h264 with b-frames": lambda: _encode_pattern(320, 180, 10, 4, 2),
         "h264 + aac": lambda: _clip("mp4", with_audio=True),
         "h264 annex b": lambda: _clip("mpegts")}  # NAL units with start codes, as an RTSP camera's packets come


@pytest.mark.parametrize("clip", CLIPS)
def test_our_fragments_hold_what_ffmpegs_muxer_writes(clip: str) -> None:
    data = CLIPS[clip]()
    with av.open(io.BytesIO(data)) as source:
        streams = [source.streams.video[0], *source.streams.audio[:1]]
        packets = [p for p in source.demux(*streams) if p.size and p.dts is not None]
        first_video = next(i for i, p in enumerate(packets) if p.stream_index == streams[0].index)
        packets = packets[first_video:]  # a recording run starts at its first video keyframe (media/recorder.py)
        ours = Fragmenter(*streams)  # type: ignore[arg-type]
        sink = _BoxSplitter()
        with av.open(sink, mode="w", format="mp4",
                     options={"movflags": "frag_keyframe+empty_moov+default_base_moof"}) as reference:
            outputs = {s.index: reference.add_stream_from_template(s) for s in streams}
            written = b""
            for packet in packets:
                written += b"".join(f.data for f in ours.mux(raw_packet(packet), packet.stream_index))
                packet.stream = outputs[packet.stream_index]
                reference.mux(packet)
        written += b"".join(f.data for f in ours.close())
    theirs = b"".join(data for kind, data in sink.boxes if kind in (b"moof", b"mdat"))
    assert ours.init == b"".join(data for kind, data in sink.boxes if kind in (b"ftyp", b"moov"))
    mine, reference_samples = _samples(written), _samples(theirs)
    assert mine[1] == reference_samples[1]  # video: the same fragments (one per GOP), sample for sample
    if len(streams) == 2:  # audio: the same samples; which fragment holds the few around a keyframe may differ
        assert [s for f in mine[2] for s in f][:-1] == [s for f in reference_samples[2] for s in f][:-1]
    assert _payload(written) == _payload(theirs)


def _payload(data: bytes) -> bytes:
    """Every mdat's bytes, in order, video before audio within a fragment."""
    return b"".join(data[box.body] for box in iter_boxes(data) if box.type == b"mdat")
