"""A directory store takes a closed file by linking it: its bytes are not copied again."""

from __future__ import annotations

from pathlib import Path

from storage.objects import DirObjectStore


def test_a_file_on_the_same_file_system_is_linked_not_copied(tmp_path: Path) -> None:
    store = DirObjectStore(tmp_path / "objects", public_base_url="http://127.0.0.1:1", signing_secret=b"s")
    source = tmp_path / "spool" / "chunk.mp4"
    source.parent.mkdir()
    source.write_bytes(b"mdat" * 100)
    store.put_file("t/c/chunk.mp4", source)
    stored = tmp_path / "objects" / "t/c/chunk.mp4"
    assert stored.stat().st_ino == source.stat().st_ino
    assert not [p for p in stored.parent.iterdir() if p.name.startswith(".tmp-")]
    source.unlink()
    assert store.get("t/c/chunk.mp4") == b"mdat" * 100
