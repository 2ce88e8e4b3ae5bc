"""Placement and reconciliation of cameras onto camera hosts (pure).

The Fleet actor feeds this the desired cameras (from PostgreSQL) and what the
hosts report running, and carries out the plan it returns.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class ReconcilePlan(Generic[K]):
    start: list[K]
    stop: list[K]


def reconcile(desired: Mapping[K, str], running: Mapping[K, str]) -> ReconcilePlan[K]:
    """Plan to make ``running`` match ``desired``.

    Both map camera id → configuration revision. A camera whose revision changed
    is stopped and started again.
    """
    stop = [cid for cid, rev in running.items() if desired.get(cid) != rev]
    start = [cid for cid, rev in desired.items() if running.get(cid) != rev]
    return ReconcilePlan(start=sorted(start, key=str), stop=sorted(stop, key=str))


def choose_host(load: Mapping[int, int], per_host: int) -> int:
    """The host slot to place one more camera on: the least loaded host with room,
    else a new slot after the highest one.
    """
    with_room = [(count, slot) for slot, count in load.items() if count < per_host]
    if with_room:
        return min(with_room)[1]
    return max(load, default=-1) + 1
