"""Node-local disk for plate reads from senders that never retry, while the intake or object store is down.

A Hikvision camera drops an event its push did not deliver, so answering 503
would lose it. Instead the read (its queued form and its images) is written to
one file, fsynced and renamed into place, and the API replica that runs on this
node resubmits it once the stores answer again. Files are claimed with an
exclusive ``flock`` so two replicas sharing the directory do not both resubmit
one (a double resubmission would still be stored once). Bounded by bytes.
"""

from __future__ import annotations

import fcntl
import logging
import os
import struct
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from domain.lpr.queued_read import QueuedRead

log = logging.getLogger(__name__)

_SUFFIX = ".read"
_LENGTH = struct.Struct(">I")
_USAGE_TTL_S = 1.0

Resubmit = Callable[[QueuedRead, list[bytes]], Awaitable[None]]


class SpoolFull(Exception):
    """The LPR spool is at its byte budget: the read cannot be kept."""


def encode(read: QueuedRead, images: list[bytes]) -> bytes:
    parts = [read.to_json(), *images]
    return b"".join(_LENGTH.pack(len(p)) + p for p in parts)


def decode(data: bytes) -> tuple[QueuedRead, list[bytes]]:
    parts: list[bytes] = []
    offset = 0
    while offset < len(data):
        (length,) = _LENGTH.unpack_from(data, offset)
        offset += _LENGTH.size
        if offset + length > len(data):
            raise ValueError("truncated spool file")
        parts.append(data[offset:offset + length])
        offset += length
    if not parts:
        raise ValueError("empty spool file")
    return QueuedRead.from_json(parts[0]), parts[1:]


class LprSpool:
    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self._max_bytes = max_bytes
        self._usage: tuple[float, int] = (0.0, 0)

    def used_bytes(self) -> int:
        if not self.directory.is_dir():
            return 0
        return sum(entry.stat().st_size for entry in os.scandir(self.directory) if entry.name.endswith(_SUFFIX))

    def _cached_usage(self) -> int:
        at, used = self._usage
        if time.monotonic() - at > _USAGE_TTL_S:
            used = self.used_bytes()
        return used

    def put(self, read: QueuedRead, images: list[bytes]) -> Path:
        """Durable on return: the file's data and its name are fsynced."""
        data = encode(read, images)
        used = self._cached_usage()
        if used + len(data) > self._max_bytes:
            raise SpoolFull(f"the LPR spool holds {used} of {self._max_bytes} bytes")
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{int(read.received_at.timestamp() * 1000):015d}-{read.id}{_SUFFIX}"
        temporary = self.directory / (name + ".tmp")
        with temporary.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        final = self.directory / name
        temporary.rename(final)
        directory = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        self._usage = (time.monotonic(), used + len(data))
        return final

    def pending(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(self.directory / e.name for e in os.scandir(self.directory) if e.name.endswith(_SUFFIX))

    async def drain(self, resubmit: Resubmit, limit: int = 500) -> int:
        """Resubmit up to ``limit`` spooled reads, oldest first; stops at the first failure (stores still down)."""
        done = 0
        for path in self.pending()[:limit]:
            try:
                handle = path.open("rb")
            except FileNotFoundError:
                continue  # another replica finished it
            with handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # another replica is on it
                if not path.exists():
                    continue
                try:
                    read, images = decode(handle.read())
                except ValueError as exc:
                    log.error("unreadable LPR spool file %s kept aside: %s", path, exc)
                    path.rename(path.with_suffix(".bad"))
                    continue
                await resubmit(read, images)  # raises while the stores are down: the file stays
                path.unlink()
                done += 1
        return done
