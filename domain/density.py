"""How many cameras share a camera host, when nobody says (pure).

A Ray actor process costs ≈ 49 MiB and ≈ 0.5 % of a core idle, a supervisor
inside one a few KiB (docs/density.md). So by default there are about as
many hosts as cores — each host's ingest threads then share one GIL, and the
hosts together use every core — and the cameras are spread evenly over them.
``--cameras-per-host`` overrides it; K = 1 isolates every camera.
"""

from __future__ import annotations

import math


def cameras_per_host(cameras: int, cores: int, configured: int | None) -> int:
    """K for ``cameras`` enabled cameras on ``cores`` cores: ``configured`` if set, else ⌈cameras / cores⌉ (≥ 1)."""
    if configured is not None:
        return configured
    return max(1, math.ceil(cameras / max(1, cores)))


def hosts_wanted(cores: int, configured: int | None) -> int | None:
    """How many hosts to open before any host takes a second camera: one per core when K is chosen here."""
    return None if configured is not None else max(1, cores)
