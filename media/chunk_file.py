"""Reading a chunk file (init + fragments) back into its index entry.

The spool file is the single source of truth for a chunk: its index row is
derived from the bytes that are uploaded — the same way for a chunk that was
just closed and for one recovered after a crash.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from domain.recording import ChunkMeta, FragmentEntry, from_epoch_ms
from media.boxes import Buffer, iter_boxes, read_box_header, read_moof, read_tracks


def complete_prefix_length(data: bytes) -> int:
    """Length of the longest prefix that is an init segment plus whole moof+mdat pairs.

    0 if not even the init and one fragment are complete (nothing playable).
    """
    end_of_init = 0
    good = 0
    pending_moof = False
    for box in iter_boxes(data):
        if box.type in (b"ftyp", b"moov") and not good:
            end_of_init = box.offset + box.size
        elif box.type == b"moof" and end_of_init:
            pending_moof = True
        elif box.type == b"mdat" and pending_moof:
            good = box.offset + box.size
            pending_moof = False
        else:
            break
    return good


def describe_chunk(data: Buffer, *, tenant_id: UUID, camera_id: UUID, start_ms: int) -> ChunkMeta:
    """The index entry of a chunk whose first fragment starts at ``start_ms`` (UTC epoch ms)."""
    boxes = list(iter_boxes(data))
    init_end = next(b.offset for b in boxes if b.type == b"moof")
    tracks = read_tracks(bytes(data[:init_end]))
    video = next(t for t in tracks.values() if t.handler == b"vide")
    entries: list[FragmentEntry] = []
    first_decode: int | None = None
    end_ticks = 0
    for box in boxes:
        if box.type == b"moof":
            run = read_moof(data, box, tracks)[video.track_id]
            first_decode = run.base_decode_time if first_decode is None else first_decode
            offset_ticks = run.base_decode_time - first_decode
            mdat = read_box_header(data, box.offset + box.size)
            assert mdat is not None and mdat.type == b"mdat", "a moof is always followed by its mdat"
            entries.append(FragmentEntry(
                box.offset, box.size + mdat.size,
                round(offset_ticks * 1000 / video.timescale), round(run.duration * 1000 / video.timescale),
            ))
            end_ticks = offset_ticks + run.duration
    if not entries:
        raise ValueError("chunk has no fragment")
    start = from_epoch_ms(start_ms)
    return ChunkMeta(
        tenant_id=tenant_id, camera_id=camera_id, start=start,
        end=start + timedelta(milliseconds=round(end_ticks * 1000 / video.timescale)),
        size=len(data), init_length=init_end, codec=video.codec, width=video.width, height=video.height,
        fragments=tuple(entries),
        media_start_ms=round((first_decode or 0) * 1000 / video.timescale),
    )
