"""A queued plate read's JSON round trip and image keys; the LPR spool's file format, budget and draining."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain.lpr.queued_read import QueuedRead, image_keys
from domain.lpr.reads import PlateRead
from storage.lpr_spool import LprSpool, SpoolFull, decode, encode

CAPTURED = datetime(2026, 2, 3, 4, 5, 6, 789000, tzinfo=UTC)


def _queued(images: int = 2, received_s: int = 7) -> QueuedRead:
    read = PlateRead(plate="ABC1D23", captured_at=CAPTURED, confidence=97.5, direction="leaving",
                     vehicle_color="black", images=(b"\xff\xd8a",) * images, vendor_event_id="e-1")
    return QueuedRead.of(read, tenant_id=uuid.uuid4(), camera_id=uuid.uuid4(), sender="hikvision",
                         received_at=datetime(2026, 2, 3, 4, 5, received_s, tzinfo=UTC))


def test_a_queued_read_survives_json_and_names_its_images_by_its_own_id() -> None:
    queued = _queued()
    assert QueuedRead.from_json(queued.to_json()) == queued
    prefix = f"t/{queued.tenant_id}/lpr/2026/02/03/{queued.id}"
    assert queued.image_keys == (f"{prefix}.jpg", f"{prefix}-1.jpg")
    assert queued.dedupe_key == f"{queued.camera_id}:id:e-1"
    assert image_keys(queued.tenant_id, CAPTURED, queued.id, 0) == []


def test_spool_files_round_trip_and_refuse_truncation() -> None:
    queued = _queued()
    data = encode(queued, [b"one", b"two"])
    assert decode(data) == (queued, [b"one", b"two"])
    with pytest.raises(ValueError, match="truncated"):
        decode(data[:-1])


async def test_the_spool_keeps_reads_until_resubmitted_oldest_first_and_within_its_budget(tmp_path: Path) -> None:
    spool = LprSpool(tmp_path / "lpr", max_bytes=4096)
    first, second = _queued(received_s=7), _queued(received_s=8)
    spool.put(first, [b"x" * 100])
    spool.put(second, [])
    with pytest.raises(SpoolFull):
        spool.put(_queued(), [b"x" * 5000])
    (tmp_path / "lpr" / "000000000000000-bad.read").write_bytes(b"\x00\x00\x00\x09{}")

    resubmitted: list[uuid.UUID] = []

    async def failing(read: QueuedRead, images: list[bytes]) -> None:
        raise ConnectionError("still down")

    async def working(read: QueuedRead, images: list[bytes]) -> None:
        resubmitted.append(read.id)

    with pytest.raises(ConnectionError):
        await spool.drain(failing)
    assert len(spool.pending()) == 2, "nothing lost while the stores are down; the corrupt file is set aside"
    assert await spool.drain(working) == 2 and spool.pending() == []
    assert resubmitted == [first.id, second.id]
    assert (tmp_path / "lpr" / "000000000000000-bad.bad").exists()
