"""An exclusive lock on a file, held for as long as its holder lives.

``flock`` locks belong to the open file, so the kernel releases one when its
holder dies in any way (``kill -9`` included): a crash never leaves a stale
lock behind, and no pid file needs guessing. The holder writes a small JSON
note into the file (who it is), which anyone may read to say who holds it.
The descriptor is not inherited by child processes (Python opens files
non-inheritable), so a server the holder started cannot keep the lock alive.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any


def _locked(fd: int) -> bool:
    """Take the exclusive lock on ``fd`` without waiting; False if another open file holds it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class FileLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self.previous_note: dict[str, Any] = {}  # what the last holder left in the file, read when acquired

    def acquire(self, note: dict[str, Any] | None = None) -> bool:
        """Take the lock without waiting; False if someone else holds it. The note replaces the file's content."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _locked(fd):
            os.close(fd)
            return False
        self._fd = fd
        try:
            self.previous_note = json.loads(os.pread(fd, 64 * 1024, 0) or b"{}")
        except ValueError:
            self.previous_note = {}
        self.rewrite(note or {})
        return True

    def rewrite(self, note: dict[str, Any]) -> None:
        """Replace the holder's note (while holding the lock)."""
        if self._fd is None:
            raise RuntimeError(f"{self.path} is not held")
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, json.dumps(note).encode(), 0)
        os.fsync(self._fd)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the last descriptor of the open file drops the lock
            self._fd = None

    def holder(self) -> dict[str, Any] | None:
        """The note of whoever holds the lock now, or None when nobody does."""
        if not self.path.exists():
            return None
        fd = os.open(self.path, os.O_RDONLY)
        try:
            if _locked(fd):
                return None  # nobody holds it (our probe's lock goes with the descriptor)
            note: dict[str, Any] = json.loads(os.pread(fd, 64 * 1024, 0) or b"{}")
            return note
        except ValueError:
            return {}
        finally:
            os.close(fd)
