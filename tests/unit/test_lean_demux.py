"""The lean reader yields exactly what PyAV's demux yields, from PyAV's own open container."""

from __future__ import annotations

import io
from pathlib import Path

import av

from media import lean_demux
from media.lean_demux import LeanDemuxer, raw_packet
from media.sources import _encode_pattern
from tests.unit.test_fragments_match_ffmpeg import _clip


def test_the_lean_reader_reads_what_pyav_demuxes(tmp_path: Path) -> None:
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(_clip("mp4", with_audio=True))
    with av.open(str(clip)) as container:
        expected = [raw_packet(p) for p in container.demux() if p.size]
    with av.open(str(clip)) as container:
        lean = LeanDemuxer.attach(container, frozenset(s.index for s in container.streams))
        assert lean is not None, "PyAV's container layout is the known one"
        read = []
        while (packet := lean.read()) is not None:
            read.append(packet)
        assert lean.read() is None  # the end stays the end
        lean.close()
    assert read == expected and {p.stream_index for p in read} == {0, 1}


def test_only_the_wanted_streams_are_read() -> None:
    with av.open(io.BytesIO(_encode_pattern(160, 90, 10, 2))) as container:
        lean = LeanDemuxer.attach(container, frozenset({1}))  # a stream the file does not have
        assert lean is not None and lean.read() is None
        lean.close()


def test_batches_hold_every_packet_in_order_whatever_the_window_and_buffer(tmp_path: Path) -> None:
    assert lean_demux._batch is not None, "scripts/setup builds the batch reader (media/_batch_read.c)"
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(_clip("mp4", with_audio=True))
    with av.open(str(clip)) as container:
        expected = [raw_packet(p) for p in container.demux() if p.size]
    for window_s, buffer in ((0.0, 64 * 1024), (10.0, 64 * 1024), (10.0, 100)):
        with av.open(str(clip)) as container:
            lean = LeanDemuxer.attach(container, frozenset({0, 1}))
            assert lean is not None
            lean._data = bytearray(buffer)  # smaller than a keyframe: the buffer grows to take it
            batches = []
            while (batch := lean.read_some(window_s)) is not None:
                batches.append(batch)
            lean.close()
        assert [p for batch in batches for p in batch] == expected
        if window_s == 0:
            assert len(batches) == len(expected)  # no window: each packet as it comes
        elif buffer > 1000:
            assert len(batches) < len(expected) / 4  # a window: many packets per GIL release
        if buffer == 100:
            assert len(lean._data) >= max(p.size for p in expected)
