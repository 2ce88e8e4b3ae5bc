"""One GT-Vision per data directory: the running instance holds a lock on its var dir.

A second ``gtvision up`` on the same directory would attach to the first one's
embedded PostgreSQL, start supervisors for the same cameras and take over its
open spool files; so it refuses at once, naming the running instance, before it
touches PostgreSQL, Ray or the spool. The lock is the kernel's (storage/file_lock.py):
any death of the holder releases it, so a crash never blocks the next start.
``gtvision status`` and ``gtvision stop`` find the instance through the same file.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from storage.file_lock import FileLock

LOCK_FILE = "gtvision.lock"


@dataclass(frozen=True)
class Instance:
    """Who runs on a var dir: written into the lock by the holder."""

    pid: int
    api_url: str
    var_dir: str
    started_at: float
    database_url: str | None = None  # only the embedded one (a Unix socket under the var dir, no password)

    @classmethod
    def from_note(cls, note: dict[str, Any]) -> Instance:
        return cls(pid=int(note.get("pid", 0)), api_url=str(note.get("api_url", "?")),
                   var_dir=str(note.get("var_dir", "?")), started_at=float(note.get("started_at", 0.0)),
                   database_url=note.get("database_url"))

    def describe(self) -> str:
        return f"pid {self.pid}, API {self.api_url}"


class AlreadyRunning(Exception):
    def __init__(self, instance: Instance) -> None:
        super().__init__(f"GT-Vision is already running on {instance.var_dir} ({instance.describe()})")
        self.instance = instance


def instance_lock(var_dir: Path) -> FileLock:
    return FileLock(var_dir / LOCK_FILE)


def claim(var_dir: Path, api_url: str) -> FileLock:
    """This process becomes the instance of ``var_dir`` (held until it exits), or AlreadyRunning."""
    lock = instance_lock(var_dir)
    me = Instance(os.getpid(), api_url, str(var_dir), time.time())
    if not lock.acquire(asdict(me)):
        raise AlreadyRunning(running(var_dir) or Instance(0, "?", str(var_dir), 0.0))
    return lock


def crashed_predecessor(lock: FileLock) -> Instance | None:
    """The instance that held the directory before and did not stop in order (its note is still there)."""
    return Instance.from_note(lock.previous_note) if lock.previous_note else None


def stopped_in_order(lock: FileLock) -> None:
    """Leave an empty note: the next start knows this instance went down in order."""
    lock.rewrite({})


def record(lock: FileLock, instance: Instance) -> None:
    """Rewrite the holder's note (e.g. once the embedded database's address is known)."""
    lock.rewrite(asdict(instance))


def running(var_dir: Path) -> Instance | None:
    """The instance running on ``var_dir``, if any."""
    note = instance_lock(var_dir).holder()
    return None if note is None else Instance.from_note(note)
