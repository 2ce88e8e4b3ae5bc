"""Placement and reconciliation of cameras onto camera hosts (pure).

The Fleet actor feeds this the desired cameras (from PostgreSQL) and what the
hosts report running, and carries out the plan it returns.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping
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


def choose_host(load: Mapping[int, int], per_host: int, *, hosts: int | None = None,
                reserved: Collection[int] = ()) -> int:
    """The host slot to place one more camera on.

    While fewer than ``hosts`` shared hosts are open and each has a camera, a
    new one (so cameras spread over about one host per core); then the least
    loaded shared host with room; else a new slot after the highest one.
    ``reserved`` slots (a quarantined camera's, a crash loop's suspects) are
    never chosen, and count only for numbering.
    """
    shared = {slot: count for slot, count in load.items() if slot not in reserved}
    fresh = max([*load, *reserved], default=-1) + 1
    if hosts is not None and len(shared) < hosts and all(shared.values()):
        return fresh
    with_room = [(count, slot) for slot, count in shared.items() if count < per_host]
    if with_room:
        return min(with_room)[1]
    return fresh
