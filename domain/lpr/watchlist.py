"""Watchlists: which plates raise an alert, exact or with ``?`` (one character) and ``*`` (any run)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from uuid import UUID


@dataclass(frozen=True)
class WatchEntry:
    id: UUID
    pattern: str  # canonical plate characters plus ? and *
    reason: str
    tenant_id: UUID | None = None
    created_by: UUID | None = None
    created_at: datetime | None = None

    def matches(self, plate: str) -> bool:
        return _regex(self.pattern).fullmatch(plate) is not None


@lru_cache(maxsize=10_000)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile("".join("." if c == "?" else ".*" if c == "*" else re.escape(c) for c in pattern))


def hits(plate: str, entries: list[WatchEntry]) -> list[WatchEntry]:
    return [entry for entry in entries if entry.matches(plate)]
