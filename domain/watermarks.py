"""Storage watermarks: how full a disk or bucket may get before people are told, and before footage must go.

Above the warning level an alert goes out; above the critical level the
deployment's policy acts (purge the oldest un-held footage, or pause
recording) until usage is back under the warning level — never by deleting
held footage, never by letting the disk fill.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Watermarks:
    warning: float = 0.85
    critical: float = 0.95

    def level(self, used: int, total: int) -> Level:
        if total <= 0:
            return Level.OK
        ratio = used / total
        if ratio >= self.critical:
            return Level.CRITICAL
        return Level.WARNING if ratio >= self.warning else Level.OK

    def bytes_to_free(self, used: int, total: int) -> int:
        """What must go to be back under the warning level (0 if already under it)."""
        return max(0, used - int(self.warning * total))
