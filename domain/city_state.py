"""What a city's coordinator knows of it at a moment: everything counted from PostgreSQL, nothing only in memory.

The coordinator (services/city_coordinator.py) holds one of these per city and
refreshes it every few seconds; after a restart it rebuilds the same one from
the same rows, which is what makes killing its process lose nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any
from uuid import UUID

from domain.city_storage import CityStorage


@dataclass(frozen=True)
class CityState:
    tenant_id: UUID
    storage: CityStorage
    share_bytes: int | None  # the city's fair share of the store (domain/fair_relief.py); None: not known
    clip_jobs: dict[str, int] = field(default_factory=dict)  # queued / running / done / failed
    live_viewers: int = 0
    cameras: dict[str, int] = field(default_factory=dict)  # enabled cameras by state of their last transition

    @property
    def excess_bytes(self) -> int:
        """What the city stores beyond its share (0 within it, or when the share is not known)."""
        return max(0, self.storage.total - self.share_bytes) if self.share_bytes is not None else 0

    def to_json(self) -> dict[str, Any]:
        return {"tenant_id": str(self.tenant_id), "storage": asdict(self.storage), "total_bytes": self.storage.total,
                "share_bytes": self.share_bytes, "excess_bytes": self.excess_bytes, "clip_jobs": self.clip_jobs,
                "live_viewers": self.live_viewers, "cameras": self.cameras}
