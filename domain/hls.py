"""HLS playlists (RFC 8216, version 7: fMP4 segments) for recordings and the live window.

Playback never copies video: each segment is a byte range of a chunk object
(``EXT-X-BYTERANGE``), its init segment the chunk's first bytes (``EXT-X-MAP``).
A new run (a gap, a reconnect, a codec change) restarts media time, so it gets
``EXT-X-DISCONTINUITY`` and its wall-clock start (``EXT-X-PROGRAM-DATE-TIME``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain.recording import FragmentEntry, fragments_overlapping


@dataclass(frozen=True)
class PlaybackChunk:
    start: datetime
    url: str
    init_length: int
    fragments: tuple[FragmentEntry, ...]
    new_run: bool


@dataclass(frozen=True)
class LiveSegment:
    seq: int
    init_id: int
    start_ms: int  # UTC epoch ms
    duration_s: float


def _header(target_s: float, extra: list[str]) -> list[str]:
    return ["#EXTM3U", "#EXT-X-VERSION:7", f"#EXT-X-TARGETDURATION:{max(1, math.ceil(target_s))}",
            "#EXT-X-INDEPENDENT-SEGMENTS", *extra]


def _date(instant: datetime) -> str:
    return "#EXT-X-PROGRAM-DATE-TIME:" + instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def playback_fragments(chunk: PlaybackChunk, start: datetime, end: datetime) -> list[FragmentEntry]:
    return fragments_overlapping(chunk.start, chunk.fragments, start, end)


def vod_playlist(chunks: list[PlaybackChunk], start: datetime, end: datetime) -> str:
    """A VOD playlist of [start, end) from the index rows that overlap it (in time order)."""
    body: list[str] = []
    longest = 1.0
    first = True
    for chunk in chunks:
        fragments = playback_fragments(chunk, start, end)
        if not fragments:
            continue
        if chunk.new_run or first:
            if not first:
                body.append("#EXT-X-DISCONTINUITY")
            body.append(_date(chunk.start + timedelta(milliseconds=fragments[0].start_ms)))
        first = False
        body.append(f'#EXT-X-MAP:URI="{chunk.url}",BYTERANGE="{chunk.init_length}@0"')
        for fragment in fragments:
            longest = max(longest, fragment.duration_ms / 1000)
            body += [f"#EXTINF:{fragment.duration_ms / 1000:.3f},",
                     f"#EXT-X-BYTERANGE:{fragment.length}@{fragment.offset}", chunk.url]
    lines = _header(longest, ["#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-MEDIA-SEQUENCE:0"]) + body + ["#EXT-X-ENDLIST"]
    return "\n".join(lines) + "\n"


def live_playlist(segments: list[LiveSegment], init_uri: Callable[[int], str], segment_uri: Callable[[int], str]) -> str:
    """A live (sliding window) playlist of the camera's latest GOPs."""
    body: list[str] = []
    previous_init: int | None = None
    for segment in segments:
        if segment.init_id != previous_init:
            if previous_init is not None:
                body.append("#EXT-X-DISCONTINUITY")
            body.append(f'#EXT-X-MAP:URI="{init_uri(segment.init_id)}"')
            previous_init = segment.init_id
        body += [_date(datetime.fromtimestamp(segment.start_ms / 1000, UTC)),
                 f"#EXTINF:{segment.duration_s:.3f},", segment_uri(segment.seq)]
    target = max((s.duration_s for s in segments), default=2.0)
    first_seq = segments[0].seq if segments else 0
    return "\n".join(_header(target, [f"#EXT-X-MEDIA-SEQUENCE:{first_seq}"]) + body) + "\n"
