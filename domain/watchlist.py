"""Watchlists: which plates raise an alert, exact or with ``?`` (one character) and ``*`` (any run)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class WatchEntry:
    id: UUID
    pattern: str  # canonical plate characters plus ? and *
    reason: str

    def matches(self, plate: str) -> bool:
        return _regex(self.pattern).fullmatch(plate) is not None


@lru_cache(maxsize=10_000)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile("".join("." if c == "?" else ".*" if c == "*" else re.escape(c) for c in pattern))


def hits(plate: str, entries: list[WatchEntry]) -> list[WatchEntry]:
    return [entry for entry in entries if entry.matches(plate)]


def lpr_alert_event(tenant_id: UUID, entry: WatchEntry, event: dict[str, Any]) -> dict[str, Any]:
    """The operator alert a watchlist hit publishes on the tenant's event stream."""
    return {"type": "lpr.alert", "severity": "warning", "tenant_id": str(tenant_id), "watchlist_id": str(entry.id),
            "pattern": entry.pattern, "reason": entry.reason, **event}
