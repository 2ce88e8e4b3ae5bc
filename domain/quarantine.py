"""Crash loops: finding the camera that keeps taking its host down, and giving it a host of its own (pure).

When a camera host dies, every camera on it stops; nothing says which stream
(if any) crashed FFmpeg. So the book counts crashes per host: a host that
crashes ``limit`` times within ``window_s`` is split — half of its cameras
move together to a new host of their own — and the halving repeats on
whichever host keeps crashing, until the camera that does it is alone: then
it is quarantined there (its host takes no other camera). With K cameras on
the host that is ⌈log₂ K⌉ rounds, and after each round the neighbours that
moved away, or stayed, stop being interrupted.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

C = TypeVar("C", bound=Hashable)


@dataclass(frozen=True)
class Split(Generic[C]):
    """Move these cameras together to a new host reserved for them."""

    move: tuple[C, ...]


@dataclass(frozen=True)
class Quarantine(Generic[C]):
    """This camera crashes its host on its own: it keeps that host, and the host takes no other camera."""

    camera: C


@dataclass
class CrashBook(Generic[C]):
    limit: int = 3
    window_s: float = 600.0
    _crashes: dict[int, deque[float]] = field(default_factory=dict)  # host slot → crash instants in the window
    quarantined: set[C] = field(default_factory=set)

    def crashed(self, slot: int, cameras: list[C], now: float) -> Split[C] | Quarantine[C] | None:
        """Host ``slot`` died at ``now`` holding ``cameras``; what to do about it, if anything yet."""
        times = self._crashes.setdefault(slot, deque())
        times.append(now)
        while times and times[0] < now - self.window_s:
            times.popleft()
        if len(times) < self.limit or not cameras:
            return None
        times.clear()  # the next round judges the new arrangement afresh
        ordered = sorted(cameras, key=str)
        if len(ordered) == 1:
            self.quarantined.add(ordered[0])
            return Quarantine(ordered[0])
        return Split(tuple(ordered[len(ordered) // 2:]))

    def forget(self, slot: int) -> None:
        self._crashes.pop(slot, None)
