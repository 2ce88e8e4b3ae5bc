"""What a city stores, by kind: the bytes its plan's storage quota counts and fair relief weighs.

Kept current by the database as rows are written and deleted (migration 0017), so reading it costs one
index lookup per city, whatever the city stores.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("recordings", "thumbnails", "clips", "lpr_images")


@dataclass(frozen=True)
class CityStorage:
    recordings: int = 0
    thumbnails: int = 0
    clips: int = 0
    lpr_images: int = 0

    @property
    def total(self) -> int:
        return self.recordings + self.thumbnails + self.clips + self.lpr_images

    def by_kind(self) -> dict[str, int]:
        return {kind: getattr(self, kind) for kind in KINDS}
