"""Who loses footage when the store is past its critical watermark: the cities furthest over their fair share.

Relief used to take the oldest footage of the *biggest* cities, so a city
that stored little but happened to be large, or one that never flooded
anything, could lose footage to another city's flood. Now each city has a
**fair share**: its plan's storage quota, or, without one, an equal share of
the store's capacity (of what is stored, when the capacity is not known). A
city's **excess** is what it stores (everything: domain/city_storage.py)
beyond its share.

- ``relief_plan``: the bytes to free are taken from the cities over their
  share by water-filling — the one furthest over gives first, down to the
  next one's excess, then both, and so on — so no city is relieved while
  another is further over, and **none within its share while another is
  over**. Only if freeing every excess is not enough (the store is simply
  too small for the shares) does every city give, in proportion to its share.
- ``to_pause``: under the ``pause`` policy, the cities over their share stop
  recording; only when none is over (the shares themselves do not fit) do all.

Pure: sizes in, amounts out; the service (services/storage_relief.py) purges.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class CityUse:
    tenant_id: UUID
    stored: int  # bytes of every kind
    quota: int | None  # the plan's storage quota; None: an equal share of the capacity


def shares(cities: list[CityUse], capacity: int | None) -> dict[UUID, int]:
    """Each city's fair share in bytes."""
    if not cities:
        return {}
    pool = capacity if capacity is not None else sum(c.stored for c in cities)
    equal = pool // len(cities)
    return {c.tenant_id: c.quota if c.quota is not None else equal for c in cities}


def excess(cities: list[CityUse], capacity: int | None) -> dict[UUID, int]:
    """Bytes each city stores beyond its share (only the cities over it)."""
    share = shares(cities, capacity)
    return {c.tenant_id: c.stored - share[c.tenant_id] for c in cities if c.stored > share[c.tenant_id]}


def relief_plan(cities: list[CityUse], capacity: int | None, needed: int) -> list[tuple[UUID, int]]:
    """(city, bytes to free), furthest over first, adding up to ``needed`` (or to all there is)."""
    if needed <= 0:
        return []
    over = excess(cities, capacity)
    taken = _water_fill(over, needed)
    left = needed - sum(taken.values())
    if left > 0:  # every excess freed and still not enough: everyone gives, in proportion to their share
        share = shares(cities, capacity)
        room = {c.tenant_id: c.stored - taken.get(c.tenant_id, 0) for c in cities}
        weights = sum(share[c] for c in room if room[c] > 0) or 1
        for city, available in sorted(room.items(), key=lambda kv: -kv[1]):
            extra = min(available, -(-left * share[city] // weights))  # rounded up: the total is reached
            if extra > 0:
                taken[city] = taken.get(city, 0) + extra
    plan = [(city, amount) for city, amount in taken.items() if amount > 0]
    return sorted(plan, key=lambda p: (-over.get(p[0], 0), str(p[0])))


def to_pause(cities: list[CityUse], capacity: int | None) -> list[UUID]:
    """The cities that stop recording under the ``pause`` policy: those over their share, or all if none is."""
    over = excess(cities, capacity)
    return sorted(over, key=lambda c: -over[c]) if over else [c.tenant_id for c in cities]


def _water_fill(over: dict[UUID, int], needed: int) -> dict[UUID, int]:
    """Lower the highest excesses to a common level until ``needed`` is freed (or every excess is gone)."""
    if sum(over.values()) <= needed:
        return dict(over)
    levels = [*sorted(over.values(), reverse=True), 0]
    freed = 0
    for n, (high, low) in enumerate(itertools.pairwise(levels), start=1):
        # The n cities furthest over are all at ``high``; lowering them to ``low`` frees n × (high - low).
        if freed + n * (high - low) >= needed:
            level = high - -(-(needed - freed) // n)  # rounded so that at least ``needed`` goes
            return {city: max(0, e - max(level, low)) for city, e in over.items()}
        freed += n * (high - low)
    return dict(over)
