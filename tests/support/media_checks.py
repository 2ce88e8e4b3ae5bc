"""Checks on recorded chunks shared by unit and integration tests."""

from __future__ import annotations

import io
from dataclasses import dataclass

import av

from domain.recording import FragmentEntry
from media.boxes import read_box_header


@dataclass(frozen=True)
class Decoded:
    codec: str
    width: int
    height: int
    frames: int
    first_s: float
    end_s: float  # last frame time + one frame
    audio_frames: int


def decode_chunk(data: bytes) -> Decoded:
    """Decode every frame of a chunk end to end (proves it plays on its own)."""
    with av.open(io.BytesIO(data)) as container:
        video = container.streams.video[0]
        rate = video.average_rate or video.guessed_rate
        times = []
        audio_frames = 0
        for frame in container.decode(*container.streams):
            if isinstance(frame, av.VideoFrame):
                assert frame.time is not None
                times.append(frame.time)
            else:
                audio_frames += 1
        step = float(1 / rate) if rate else 0.0
        return Decoded(video.codec_context.name, video.width, video.height, len(times),
                       min(times), max(times) + step, audio_frames)


def assert_fragment_table_addresses_moofs(data: bytes, init_length: int, fragments: list[FragmentEntry]) -> None:
    """Each entry starts at a real ``moof`` followed by its ``mdat``; together they tile the object."""
    assert read_box_header(data, 0) is not None and data[4:8] == b"ftyp"
    position = init_length
    for entry in fragments:
        assert entry.offset == position
        moof = read_box_header(data, entry.offset)
        assert moof is not None and moof.type == b"moof"
        mdat = read_box_header(data, entry.offset + moof.size)
        assert mdat is not None and mdat.type == b"mdat"
        assert moof.size + mdat.size == entry.length
        position += entry.length
    assert position == len(data)
