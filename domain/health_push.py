"""When to push a city's health on its socket: when its counts changed, at most once per interval.

A console shows each city's online/offline/error counts; instead of polling
GET /tenants/{id}/health it listens for ``tenant.health``. Twenty cameras
dropping at once must not send twenty events, so changes are debounced: the
first change goes out at once, later ones wait until ``min_interval_s`` has
passed since the last push, and only the latest counts are sent.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

Counts = dict[str, int]


class HealthDebounce:
    """Per city: the counts last pushed, when, and the newer counts waiting for their turn."""

    def __init__(self, min_interval_s: float = 1.0) -> None:
        self.min_interval_s = min_interval_s
        self._pushed: dict[UUID, tuple[Counts, datetime]] = {}
        self._waiting: dict[UUID, Counts] = {}

    def seen(self, tenant_id: UUID, counts: Counts) -> None:
        """The city's counts now; remembered only if they differ from what was last pushed."""
        pushed = self._pushed.get(tenant_id)
        if pushed is not None and pushed[0] == counts:
            self._waiting.pop(tenant_id, None)
        else:
            self._waiting[tenant_id] = dict(counts)

    def due(self, now: datetime) -> list[tuple[UUID, Counts]]:
        """The cities whose new counts may go out now (and count them as pushed)."""
        out = []
        for tenant_id, counts in list(self._waiting.items()):
            pushed = self._pushed.get(tenant_id)
            if pushed is not None and (now - pushed[1]).total_seconds() < self.min_interval_s:
                continue
            out.append((tenant_id, counts))
            self._pushed[tenant_id] = (counts, now)
            del self._waiting[tenant_id]
        return out

    def forget(self, tenant_id: UUID) -> None:
        self._pushed.pop(tenant_id, None)
        self._waiting.pop(tenant_id, None)
