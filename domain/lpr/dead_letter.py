"""A plate read the writer could not store, set aside so it never holds up the others (docs/lpr.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

MAX_ERROR = 2000  # characters of the error kept
MAX_READ = 4_000_000  # characters of the read's JSON kept (a queued read is a few hundred; no images in it)


@dataclass(frozen=True)
class DeadLetter:
    """One row of ``lpr_dead_letters``: the read as JSON (ASCII-escaped text), where it came from, and why."""

    id: int
    read_id: UUID | None
    tenant_id: UUID | None
    camera_id: UUID | None
    read: str
    error: str
    first_seen: datetime


def printable_error(error: BaseException | str) -> str:
    """An error as stored and shown: NUL and lone surrogates escaped (the text column refuses them), cut short."""
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    text = text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return text if len(text) <= MAX_ERROR else text[:MAX_ERROR - 1] + "…"
