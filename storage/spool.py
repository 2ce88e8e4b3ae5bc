"""The per-camera spool: chunks on local disk until they are stored and indexed.

Layout under the node's spool root::

    {root}/{camera_id}/{start_ms}.part    the chunk being recorded (init + fragments)
    {root}/{camera_id}/{start_ms}.chunk   closed, waiting to be uploaded and indexed

A fragment counts as recorded once it is appended to the ``.part`` file and,
under the default ``fragment`` fsync policy, ``fdatasync``ed. A ``.chunk`` is
deleted only after its index row commits. After a crash, ``recover`` closes
every ``.part`` at its last complete box, so what was fsynced is uploaded and
what was in flight (at most one fragment) is cut off. See docs/spool.md.
"""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from media.chunk_file import complete_prefix_length

PART, CHUNK = ".part", ".chunk"
_IOV_MAX = os.sysconf("SC_IOV_MAX")  # pieces per writev (a GOP of sliced frames can have more)
WRITER_LOCK = ".writer.lock"  # held in {root}/{camera_id}/ by whoever records or stores that camera's spool
SPOOL_DIR_ENV = "GTVISION_SPOOL_DIR"  # a node's own spool root (cluster.yaml, docker/): the disk of that node


def node_spool_root(configured: str) -> Path:
    """This node's spool root: ``GTVISION_SPOOL_DIR`` where the node sets it (each node of a cluster has its own
    disk, docs/cluster.md), else the deployment's ``spool_dir``."""
    return Path(os.environ.get(SPOOL_DIR_ENV) or configured).resolve()


class FsyncPolicy(StrEnum):
    FRAGMENT = "fragment"  # fdatasync after every fragment: a crash loses at most the fragment in flight
    CHUNK = "chunk"  # fsync when a chunk closes: fewer syncs, a crash may lose the open chunk's tail
    NONE = "none"  # leave it to the kernel (tests, throwaway demos)


class SpoolFull(Exception):
    """The node's spool budget is exhausted: nothing more can be recorded safely."""


class SpoolWriter:
    """Writes one camera's chunks into its spool directory (used by the ingest thread)."""

    def __init__(self, directory: Path, *, fsync: FsyncPolicy = FsyncPolicy.FRAGMENT,
                 has_room: Callable[[], bool] = lambda: True) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self._fsync = fsync
        self._has_room = has_room
        self._file: BinaryIO | None = None
        self._path: Path | None = None

    def open_chunk(self, start_ms: int, init: bytes) -> None:
        if self._file is not None:
            raise RuntimeError("a chunk is already open")
        if not self._has_room():
            raise SpoolFull(f"spool budget exhausted under {self.directory.parent}")
        self._path = self.directory / f"{start_ms}{PART}"
        self._file = self._path.open("wb", buffering=0)  # written by writev on its descriptor
        self.append((init,))
        if self._fsync != FsyncPolicy.NONE:
            _fsync_dir(self.directory)  # the new file's name is durable too

    def append(self, parts: Sequence[bytes]) -> None:
        """Append one fragment, given as its pieces: written with ``writev``, never joined in memory."""
        assert self._file is not None, "no open chunk"
        fd = self._file.fileno()
        for at in range(0, len(parts), _IOV_MAX):
            _write_all(fd, parts[at : at + _IOV_MAX])
        if self._fsync == FsyncPolicy.FRAGMENT:
            os.fdatasync(fd)

    def close_chunk(self) -> Path | None:
        """Close the open chunk; return its ``.chunk`` path (None if none was open)."""
        if self._file is None or self._path is None:
            return None
        if self._fsync != FsyncPolicy.NONE:
            os.fsync(self._file.fileno())
        self._file.close()
        closed = self._path.with_suffix(CHUNK)
        os.replace(self._path, closed)
        if self._fsync != FsyncPolicy.NONE:
            _fsync_dir(self.directory)
        self._file = self._path = None
        return closed


def recover(directory: Path) -> int:
    """Close every ``.part`` left by a crash at its last complete box; return how many."""
    if not directory.is_dir():
        return 0
    recovered = 0
    for part in sorted(directory.glob(f"*{PART}")):
        data = part.read_bytes()
        keep = complete_prefix_length(data)
        if keep == 0:  # not even one fragment made it: nothing was recorded
            part.unlink()
            continue
        if keep < len(data):
            with part.open("r+b") as f:
                f.truncate(keep)
                os.fsync(f.fileno())
        os.replace(part, part.with_suffix(CHUNK))
        recovered += 1
    if recovered:
        _fsync_dir(directory)
    return recovered


def pending(directory: Path) -> list[Path]:
    """Closed chunks waiting for upload, oldest first."""
    if not directory.is_dir():
        return []
    return sorted(directory.glob(f"*{CHUNK}"), key=lambda p: int(p.stem))


def backlog(root: Path) -> tuple[int, int]:
    """(chunks, bytes) recorded under a node's spool root and not yet stored and indexed (open chunks too)."""
    files = [f for suffix in (PART, CHUNK) for f in root.glob(f"*/*{suffix}")] if root.is_dir() else []
    return len(files), sum(f.stat().st_size for f in files)


def start_ms_of(path: Path) -> int:
    return int(path.stem)


class SpoolBudget:
    """Disk budget of one node's spool root, shared by every camera host on the node.

    Usage is measured on disk (so it counts every process's spools) and cached
    for ``refresh_s`` to keep the check cheap on the recording path.
    """

    def __init__(self, root: Path, max_bytes: int, *, refresh_s: float = 2.0) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._refresh_s = refresh_s
        self._measured_at = float("-inf")
        self._used = 0
        self._measuring = threading.Lock()

    def used_bytes(self) -> int:
        now = time.monotonic()
        # One thread walks the spool when the figure is stale; the others (many cameras open their chunks
        # at once) take the last figure rather than each walking the same tree.
        if now - self._measured_at >= self._refresh_s and self._measuring.acquire(blocking=False):
            try:
                self._used = _tree_bytes(str(self.root))
                self._measured_at = now
            finally:
                self._measuring.release()
        return self._used

    def has_room(self) -> bool:
        return self.used_bytes() < self.max_bytes


def _tree_bytes(directory: str) -> int:
    """Bytes of the files under ``directory`` (0 if it is missing); os.scandir, several times faster than rglob."""
    total = 0
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        total += _tree_bytes(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_size
                except FileNotFoundError:  # uploaded and deleted while we looked
                    continue
    except (FileNotFoundError, NotADirectoryError):
        return 0
    return total


def _write_all(fd: int, parts: Sequence[bytes]) -> None:
    written, total = os.writev(fd, parts), sum(map(len, parts))
    if written < total:  # a file takes less only when it cannot take more (a full disk): the rest, or the error
        rest = b"".join(parts)[written:]
        if os.write(fd, rest) < len(rest):
            raise OSError(errno.ENOSPC, "the spool's disk took only part of a fragment")


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
