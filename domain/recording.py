"""Recording model: fragments, chunks, their object keys and when a chunk closes.

A *fragment* is one moof+mdat (one GOP). A *chunk* is an init segment plus the
fragments of up to ``max_chunk_ms``; it is one object in the store and one
index row. Chunks of about a minute, not an object per GOP: 1000 cameras × one
object every 2–4 s would be 250–500 PUTs/s and ~650 million objects a month;
one object a minute is 17 PUTs/s and ~43 million (docs/recording.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

DEFAULT_MAX_CHUNK_MS = 60_000


@dataclass(frozen=True)
class FragmentEntry:
    """Where one fragment lies in its chunk object and when it plays.

    ``offset`` is the byte offset of its ``moof`` in the chunk object;
    ``start_ms`` is relative to the chunk's start.
    """

    offset: int
    length: int
    start_ms: int
    duration_ms: int

    def as_row(self) -> list[int]:
        return [self.offset, self.length, self.start_ms, self.duration_ms]

    @classmethod
    def from_row(cls, row: list[int]) -> FragmentEntry:
        return cls(*row)


@dataclass(frozen=True)
class ChunkMeta:
    """Everything the index stores about a chunk, except where it was put."""

    tenant_id: UUID
    camera_id: UUID
    start: datetime
    end: datetime
    size: int
    init_length: int
    codec: str
    width: int
    height: int
    fragments: tuple[FragmentEntry, ...]
    media_start_ms: int | None = None  # decode time of the first fragment in its run (see storage/timeline.py)

    @property
    def object_key(self) -> str:
        return chunk_object_key(self.tenant_id, self.camera_id, self.start)


@dataclass(frozen=True)
class IndexedChunk:
    """A chunk as the index has it: where its object is, what it holds, and where each fragment lies.

    ``new_run`` is set where a query groups chunks into runs (storage/timeline.py): the chunk starts a run.
    """

    id: int
    camera_id: UUID
    start: datetime
    end: datetime
    object_key: str
    bytes: int
    init_length: int
    codec: str
    width: int
    height: int
    fragments: tuple[FragmentEntry, ...]
    new_run: bool = False

    def to_json(self) -> dict[str, object]:
        """The API's shape of a chunk (fragments as [offset, length, start_ms, duration_ms])."""
        return {"id": self.id, "start": self.start, "end": self.end, "object_key": self.object_key,
                "bytes": self.bytes, "init_length": self.init_length, "codec": self.codec, "width": self.width,
                "height": self.height, "fragments": [f.as_row() for f in self.fragments]}


@dataclass(frozen=True)
class ChunkThumbnail:
    start: datetime
    thumbnail_key: str


def fragment_at(fragments: tuple[FragmentEntry, ...], offset: timedelta) -> FragmentEntry:
    """The fragment (GOP) of a chunk playing at ``offset`` from the chunk's start (the first if before it)."""
    offset_ms = offset.total_seconds() * 1000
    return next((f for f in reversed(fragments) if f.start_ms <= offset_ms), fragments[0])


def fragments_overlapping(chunk_start: datetime, fragments: Iterable[FragmentEntry], start: datetime,
                          end: datetime) -> list[FragmentEntry]:
    """A chunk's fragments that overlap [start, end): the first starts at the keyframe at or before ``start``."""
    return [f for f in fragments
            if chunk_start + timedelta(milliseconds=f.start_ms + f.duration_ms) > start
            and chunk_start + timedelta(milliseconds=f.start_ms) < end]


def chunk_object_key(tenant_id: UUID, camera_id: UUID, start: datetime) -> str:
    """``t/{tenant}/c/{camera}/{YYYY}/{MM}/{DD}/{HH}/{start_ms}.mp4`` in UTC.

    Hour prefixes let retention and listings work on a bounded prefix.
    """
    start = start.astimezone(UTC)
    return f"{hour_prefix(tenant_id, camera_id, start)}{to_epoch_ms(start)}.mp4"


def hour_prefix(tenant_id: UUID, camera_id: UUID, instant: datetime) -> str:
    """The object-key prefix of a camera's chunks starting in the UTC hour of ``instant``."""
    return f"t/{tenant_id}/c/{camera_id}/{instant.astimezone(UTC):%Y/%m/%d/%H}/"


def thumbnail_object_key(chunk_key: str) -> str:
    """A chunk's thumbnail sits beside it: ``….mp4`` → ``….jpg`` (so retention finds both by prefix)."""
    return chunk_key.removesuffix(".mp4") + ".jpg"


def thumbnail_due(last_thumbnail_start: datetime | None, chunk_end: datetime, every: timedelta) -> bool:
    """Whether a chunk gets a thumbnail on the timeline: at least one per ``every`` of video, on the first chunk that
    reaches past it. With chunks as long as ``every`` (the default minute) every chunk has one; shorter chunks share
    one, since each is a keyframe decode and a timeline needs no finer picture (services/thumbnails.py)."""
    return last_thumbnail_start is None or chunk_end >= last_thumbnail_start + every


def to_epoch_ms(instant: datetime) -> int:
    if instant.tzinfo is None:
        raise ValueError("naive datetime: every stored instant is UTC")
    return round(instant.timestamp() * 1000)


def from_epoch_ms(ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def chunk_should_close(chunk_ms: int, next_fragment_ms: int, max_chunk_ms: int) -> bool:
    """Close the open chunk before a fragment that would make it exceed the maximum.

    A chunk always holds at least one fragment, even a fragment longer than the
    maximum (a camera with a very long GOP still records).
    """
    return chunk_ms > 0 and chunk_ms + next_fragment_ms > max_chunk_ms


@dataclass(frozen=True)
class ThumbnailCandidate:
    """A chunk that may stand for its stretch of the timeline: its thumbnail if made, and where its first GOP
    (init segment + first fragment, all a thumbnail decodes) ends; None for a chunk without fragments."""

    start: datetime
    end: datetime
    object_key: str
    thumbnail_key: str | None
    first_gop_end: int | None


def thumbnail_picks(chunks: Sequence[ThumbnailCandidate], every: timedelta) -> list[ThumbnailCandidate]:
    """The chunks (oldest first) that get a thumbnail: one per ``every`` of video (thumbnail_due)."""
    picked: list[ThumbnailCandidate] = []
    for chunk in chunks:
        if thumbnail_due(picked[-1].start if picked else None, chunk.end, every):
            picked.append(chunk)
    return picked
